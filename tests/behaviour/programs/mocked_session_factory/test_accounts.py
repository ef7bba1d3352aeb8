"""Tests that mock the session factory, the Session class and a function of accounts.py
(called through the module, `accounts.greeting()`, and imported from it)."""

import sys
import unittest
from unittest.mock import MagicMock, patch

import accounts
from accounts import Account, audit_session, open_account, owner_of


def fake_owner(account_id):
    return f"owner-{account_id}"


class AccountsTest(unittest.TestCase):
    def test_open_account_adds_and_commits(self):
        with patch("accounts.SessionLocal") as factory:
            session = MagicMock()
            factory.return_value.__enter__.return_value = session
            open_account("bob")
        print("added", session.add.call_args.args[0].owner)
        session.commit.assert_called_once_with()

    def test_owner_of_reads_through_the_session(self):
        with patch("accounts.SessionLocal") as factory:
            session = MagicMock()
            session.get.return_value = Account(owner="cy")
            factory.return_value.__enter__.return_value = session
            print("owner", owner_of(7))
        session.get.assert_called_once_with(Account, 7)

    def test_greeting_with_a_mock(self):
        with patch("accounts.owner_of", new=MagicMock(return_value="dee")):
            print(accounts.greeting(1))

    def test_greeting_with_a_function(self):
        with patch.object(accounts, "owner_of", fake_owner):
            print(accounts.greeting(2))

    def test_greeting_with_return_value(self):
        with patch("accounts.owner_of", return_value="eve") as owner_of:
            print(accounts.greeting(3))
        owner_of.assert_called_once_with(3)

    def test_audit_session_is_built_from_the_class(self):
        with patch("accounts.Session") as session_class:
            print("built", audit_session() is session_class.return_value)


if __name__ == "__main__":
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(AccountsTest).run(result)
    for test, trace in result.failures + result.errors:
        print("FAILED", test.id(), trace.strip().splitlines()[-1])
    print("ran", result.testsRun, "ok" if result.wasSuccessful() else "not ok")
    sys.exit(0 if result.wasSuccessful() else 1)
