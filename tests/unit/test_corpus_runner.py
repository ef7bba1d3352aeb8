"""The corpus runner's static un-awaited check: exact where a module's imports resolve the
callee, name-based otherwise, and never blind to a real un-awaited call."""

from __future__ import annotations

import sys
from pathlib import Path
from textwrap import dedent

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus"


@pytest.fixture(scope="module")
def runner():  # noqa: ANN201 - the runner is a script, not a package
    sys.path.insert(0, str(CORPUS))
    try:
        import run_corpus
    finally:
        sys.path.remove(str(CORPUS))
    return run_corpus


ORIGINAL = {
    "app/__init__.py": "",
    "app/crud.py": """
        class CRUDUser:
            def get(self, db, id):
                return db.get(User, id)


        class Clock:
            def get(self):
                return 1


        user = CRUDUser()
        clock = Clock()


        def save(db, obj):
            db.add(obj)
            db.commit()


        def label(obj):
            return str(obj)


        def check(db):
            db.commit()
    """,
    "app/routes.py": """
        import jwt
        from . import crud
        from .crud import clock, label, save


        def read(db, token, repo):
            payload = jwt.decode(token)
            name = payload.get("sub")
            clock.get()
            label(name)
            save(db, name)
            crud.user.get(db, 1)
            crud.save(db, name)
            repo.get(db, 2)

            def check(value):
                return value

            check(name)
            return db.run_sync(lambda s: crud.user.get(s, 3))
    """,
}
MIGRATED = {
    "app/__init__.py": "",
    "app/crud.py": """
        class CRUDUser:
            async def get(self, db, id):
                return await db.get(User, id)


        class Clock:
            def get(self):
                return 1


        user = CRUDUser()
        clock = Clock()


        async def save(db, obj):
            db.add(obj)
            await db.commit()


        def label(obj):
            return str(obj)


        async def check(db):
            await db.commit()
    """,
    "app/routes.py": """
        import jwt
        from . import crud
        from .crud import clock, label, save


        async def read(db, token, repo):
            payload = jwt.decode(token)
            name = payload.get("sub")
            clock.get()
            label(name)
            save(db, name)
            crud.user.get(db, 1)
            crud.save(db, name)
            repo.get(db, 2)

            def check(value):
                return value

            check(name)
            return await db.run_sync(lambda s: crud.user.get(s, 3))
    """,
}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip())


def test_unawaited_calls_are_found_exactly_where_imports_resolve_them(
        runner, tmp_path: Path) -> None:  # noqa: ANN001
    _write(tmp_path / "before", ORIGINAL)
    _write(tmp_path / "after", MIGRATED)
    result = runner.TargetResult("async")
    runner.measure(tmp_path / "before", tmp_path / "after", "", result)
    found = sorted((e.line, e.text) for e in result.unawaited_examples)
    # save() imported and called; crud.user.get() through a module-level instance; crud.save()
    # through the module; repo.get() on an unresolved receiver (a method named get became
    # async). Not: payload.get() (a value from an outside library), clock.get() (an instance
    # whose class stayed sync), label() (a function that stayed sync), check() (a nested
    # function of the module, not crud's check() that became async), the run_sync lambda.
    assert [text for _, text in found] == [
        "save(db, name)", "crud.user.get(db, 1)", "crud.save(db, name)", "repo.get(db, 2)"]
    assert result.unawaited == 4


def test_a_class_own_query_method_is_not_a_legacy_chain(runner) -> None:
    import ast

    tree = ast.parse(dedent("""
        class Builder:
            def query(self, obj):
                return self.session.query(type(obj))

            def build(self, obj):
                return self.query(obj).filter_by(id=1)


        class View:
            def show(self):
                return self.query(1)
    """))
    lines = [chain.lineno for chain in runner.legacy_chains(tree)]
    assert lines == [4, 12]  # the session's query, and `self.query` of a class without one


SESSIONS = {
    "app/__init__.py": "",
    "app/ub.py": """
        from sqlalchemy.ext.asyncio import async_scoped_session, async_sessionmaker

        Session = async_scoped_session(async_sessionmaker())
        session = None


        def init_db():
            global session
            session = Session()
    """,
    "app/db.py": """
        from . import ub


        class CalibreDB:
            async def get_book(self, book_id):
                return await self.session.get(Book, book_id)

            def linked(self, model):
                return self.session.query(model).select_from(Book)


        class Archive(CalibreDB):
            def archived(self):
                return self.session.query(Archived)

            def kept(self):
                return self.session.sync_session.query(Archived)


        class Legacy:
            def __init__(self, session):
                self.session = session

            def rows(self):
                return self.session.query(Row).all()


        def helper(session):
            return session.query(Row).all()


        async def caller(s):
            await s.run_sync(helper)


        def registrations():
            return ub.session.query(Registration).all()


        def open_one():
            local = ub.Session()
            return local.query(Row).first()


        async def old_case(session):
            return session.query(Row).first()


        def versions(obj):
            session = async_object_session(obj)
            return session.query(Version)
    """,
}


def test_legacy_chains_on_sessions_the_migration_made_async(runner, tmp_path: Path) -> None:
    _write(tmp_path / "before", SESSIONS)
    _write(tmp_path / "after", SESSIONS)
    result = runner.TargetResult("async")
    runner.measure(tmp_path / "before", tmp_path / "after", "", result)
    found = [(location.path, location.line) for location in result.legacy_on_async_at]
    # linked() and archived(): `self.session` is awaited in CalibreDB (and inherited);
    # registrations(): `ub.session` is bound to an async_scoped_session's session;
    # open_one(): a session of that factory; old_case(): in an async def; versions(): an
    # async_object_session(). Not: kept() (on sync_session), Legacy.rows() (a session of
    # unknown kind), helper() (run by run_sync).
    assert found == [("app/db.py", 9), ("app/db.py", 14), ("app/db.py", 37),
                     ("app/db.py", 42), ("app/db.py", 46), ("app/db.py", 51)]
    assert result.legacy_on_async == 6


def test_the_suite_output_is_scanned_for_legacy_queries_on_async_sessions(runner) -> None:
    output = dedent("""
        E       AttributeError: 'AsyncSession' object has no attribute 'query'
        FAILED t.py::test_a - AttributeError: 'AsyncSession' object has no attribute 'query'
        FAILED t.py::test_b - AttributeError: 'Session' object has no attribute 'run_sync'
        2 failed, 3 passed in 0.5s
    """)
    run = runner.parse_pytest(output)
    assert (run.passed, run.failed, run.async_query_lines) == (3, 2, 2)
