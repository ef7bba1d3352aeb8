"""Mocks of ledger.py set up by a class decorator, by patch.multiple, by helpers that the
tests hand their mocks to, and by setUp (kept on the test case)."""

import sys
import unittest
from unittest.mock import DEFAULT, MagicMock, patch

import ledger


def give_session(factory, session):
    """What every test here wants: the factory's session is `session`."""
    factory.return_value.__enter__.return_value = session


@patch("ledger.SessionLocal")
class RecordTest(unittest.TestCase):
    def setUp(self):
        self.label = "tea"

    def test_record_commits(self, factory):
        session = MagicMock()
        give_session(factory, session)
        ledger.record(self.label, 250)
        print("recorded", session.add.call_args.args[0].label)
        session.commit.assert_called_once_with()

    @patch("ledger.Session")
    def test_report_session_is_new(self, session_class, factory):
        print("report", ledger.report_session() is session_class.return_value)
        print("factory used", factory.called)


class LabelsTest(unittest.TestCase):
    def stub_labels(self, factory, found):
        session = MagicMock()
        session.scalars.return_value = found
        factory.return_value.__enter__.return_value = session
        return session

    def test_labels_through_a_method(self):
        with patch("ledger.SessionLocal") as factory:
            session = self.stub_labels(factory, ["bread", "milk"])
            print("labels", ledger.labels())
        print("queried", session.scalars.call_count)

    def test_labels_with_patch_multiple(self):
        with patch.multiple("ledger", SessionLocal=DEFAULT, engine=DEFAULT) as mocks:
            self.stub_labels(mocks["SessionLocal"], ["salt"])
            print("labels", ledger.labels())

    @patch.multiple(ledger, SessionLocal=DEFAULT)
    def test_record_with_patch_multiple(self, SessionLocal):
        session = MagicMock()
        give_session(SessionLocal, session)
        ledger.record("fees", 900)
        print("committed", session.commit.call_count)

    def test_report_session_with_patch_multiple(self):
        with patch.multiple("ledger", Session=DEFAULT) as mocks:
            print("report", ledger.report_session() is mocks["Session"].return_value)


class KeptTest(unittest.TestCase):
    def setUp(self):
        patcher = patch("ledger.SessionLocal")
        self.factory = patcher.start()
        self.addCleanup(patcher.stop)
        self.session = MagicMock()

    def test_record_with_the_mocks_of_set_up(self):
        self.factory.return_value.__enter__.return_value = self.session
        ledger.record("gift", 2000)
        print("kept", self.session.add.call_args.args[0].cents)


if __name__ == "__main__":
    result = unittest.TestResult()
    suite = unittest.TestSuite()
    for case in (RecordTest, LabelsTest, KeptTest):
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    suite.run(result)
    for test, trace in result.failures + result.errors:
        print("FAILED", test.id(), trace.strip().splitlines()[-1])
    print("ran", result.testsRun, "ok" if result.wasSuccessful() else "not ok")
    sys.exit(0 if result.wasSuccessful() else 1)
