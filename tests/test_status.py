"""`sqla-asyncify status`: per-module state, counts, JSON shape, exit codes (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from codemods.status import (
    ModuleState,
    count_run_sync_wraps,
    mentions_database,
    project_status,
)
from codemods.todo import find_markers

runner = CliRunner()

MODELS = '''\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    active: Mapped[bool] = mapped_column(default=True)
'''
# Already async: nothing left for the tool; the DDL run_sync is the async idiom, not a bridge.
DONE = '''\
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import Base, User


async def init_db(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def first_user(session: AsyncSession):
    return (await session.scalars(select(User).order_by(User.id).limit(1))).first()
'''
LEGACY = '''\
from sqlalchemy.orm import Session

from models import User


def names(session: Session):
    return [u.name for u in session.query(User).filter(User.active).all()]


def count_active(session: Session):
    query = session.query(User)
    query = query.filter(User.active)
    return query.count()


def rename(session: Session, user_id: int, name: str):
    user = session.get(User, user_id)
    user.name = name
    session.commit()
'''
BLOCKED = '''\
from sqlalchemy.ext.asyncio import AsyncSession

from models import User


async def users_query(session: AsyncSession):
    # TODO(sqla-asyncify SQA100): a query object escapes users_query(); return a select()
    return await session.run_sync(lambda sync_session: sync_session.query(User).all())
'''
PLAIN = 'def add(a, b):\n    """No session or engine here, only a docstring."""\n    return a + b\n'
BROKEN = "def broken(:\n    pass\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {"models.py": MODELS, "done.py": DONE, "legacy.py": LEGACY, "blocked.py": BLOCKED,
             "plain.py": PLAIN, "broken.py": BROKEN}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def run(*args: str):
    return runner.invoke(app, ["status", *args])


def modules(result) -> dict[str, dict]:
    return {Path(m["path"]).name: m for m in json.loads(result.output)["modules"]}


def test_states_counts_and_blockers_in_json(project: Path) -> None:
    result = run(str(project), "--format", "json")
    assert result.exit_code == 0, result.output
    found = modules(result)
    assert {name: m["state"] for name, m in found.items()} == {
        "blocked.py": "blocked", "broken.py": "failed", "done.py": "migrated",
        "legacy.py": "to do", "models.py": "migrated", "plain.py": "no database code"}

    legacy = found["legacy.py"]
    # two query sites (the query variable and its count() are one site), two awaited session
    # calls (get, commit), three functions becoming async
    assert (legacy["legacy_queries"], legacy["sync_sessions"], legacy["functions_to_async"]
            ) == (2, 5, 3)  # sessions: 2 awaits + 3 `Session` annotations
    assert legacy["todo_markers"] == 0 and legacy["blockers"] == []

    blocked = found["blocked.py"]
    assert blocked["todo_markers"] == 1 and blocked["run_sync_wraps_left"] == 1
    assert blocked["blockers"] == [{"line": 7, "code": "SQA100", "message":
                                    "a query object escapes users_query(); return a select()"}]
    assert found["done.py"]["run_sync_wraps_left"] == 0  # create_all through run_sync is DDL
    assert found["broken.py"]["error"] == {"line": 1, "message": "syntax error: invalid syntax"}
    for name in ("done.py", "models.py", "plain.py", "broken.py"):
        counts = [v for k, v in found[name].items() if isinstance(v, int)]
        assert counts == [0] * len(counts), name


def test_json_shape_is_stable(project: Path) -> None:
    data = json.loads(run(str(project), "--format", "json").output)
    assert list(data) == ["root", "summary", "modules", "skipped"]
    assert data["summary"] == {
        "modules": 6, "with_database_code": 5, "migrated": 2, "blocked": 1, "to_do": 1,
        "failed": 1, "no_database_code": 1, "progress": 0.4, "legacy_queries": 2,
        "sync_sessions": 5, "functions_to_async": 3, "todos_to_add": 0, "unwraps_pending": 0,
        "run_sync_wraps_left": 1, "todo_markers": 1}
    assert [Path(m["path"]).name for m in data["modules"]] == sorted(
        Path(m["path"]).name for m in data["modules"])
    assert list(data["modules"][0]) == [
        "path", "state", "error", "legacy_queries", "sync_sessions", "functions_to_async",
        "todos_to_add", "unwraps_pending", "run_sync_wraps_left", "todo_markers", "blockers"]


def test_text_report(project: Path) -> None:
    result = run(str(project))
    assert result.exit_code == 0, result.output  # a failed file is reported, not an error
    out = result.output
    for row in ("legacy.py", "to do", "blocked.py", "blocked", "plain.py", "no database code",
                "broken.py", "failed"):
        assert row in out
    assert "blocked.py:7: SQA100: a query object escapes users_query()" in out
    assert "broken.py:1: error: syntax error" in out
    assert out.rstrip().endswith(
        "2 of 5 modules with database code migrated (40%); 1 to do, 1 blocked, 1 failed")
    assert not list(project.glob(".*.tmp"))
    assert (project / "legacy.py").read_text() == LEGACY  # a dry run


def test_after_migrate_write_nothing_is_left_to_do(project: Path) -> None:
    assert runner.invoke(app, ["migrate", str(project), "--write"]).exit_code == 2  # broken.py
    found = modules(run(str(project), "--format", "json"))
    states = {name: m["state"] for name, m in found.items()}
    assert "to do" not in states.values()
    assert states["legacy.py"] == "migrated" and states["blocked.py"] == "blocked"
    assert states["broken.py"] == "failed" and states["plain.py"] == "no database code"
    assert run(str(project)).output.rstrip().endswith(
        "3 of 5 modules with database code migrated (60%); 1 blocked, 1 failed")


def test_a_caller_migrated_first_counts_as_migrated_with_its_bridges(tmp_path: Path) -> None:
    """Incremental: `migrate svc` leaves `await session.run_sync(get_book, …)` bridges into
    the legacy repo package; they disappear once repo is migrated, so svc is done for now."""
    (tmp_path / "pyproject.toml").write_text("")
    for package in ("repo", "svc"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "repo" / "models.py").write_text(MODELS)
    (tmp_path / "repo" / "books.py").write_text(
        "from sqlalchemy.orm import Session\n\nfrom .models import User\n\n\n"
        "def get_user(session: Session, user_id: int):\n"
        "    return session.query(User).filter(User.id == user_id).first()\n")
    (tmp_path / "svc" / "service.py").write_text(
        "from sqlalchemy.orm import Session\n\nfrom repo.books import get_user\n\n\n"
        "def describe(session: Session, user_id: int):\n"
        "    user = get_user(session, user_id)\n    session.commit()\n    return user\n")
    assert runner.invoke(app, ["migrate", str(tmp_path / "svc"), "--write"]).exit_code == 0
    assert "run_sync(get_user" in (tmp_path / "svc" / "service.py").read_text()

    found = modules(run(str(tmp_path), "--format", "json"))
    service, books = found["service.py"], found["books.py"]
    assert service["state"] == "migrated"
    assert (service["run_sync_wraps_left"], service["unwraps_pending"]) == (1, 1)
    assert books["state"] == "to do" and books["legacy_queries"] == 1
    assert found["__init__.py"]["state"] == "no database code"


def test_default_path_exclude_and_usage_errors(project: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    found = modules(run("--format", "json", "--exclude", "broken.py", "--exclude", "legacy*"))
    assert sorted(found) == ["blocked.py", "done.py", "models.py", "plain.py"]
    default = run()  # PATH defaults to "."
    assert default.exit_code == 0
    assert "status of ." in default.output and "legacy.py" in default.output

    missing = run(str(project / "nope"))
    assert missing.exit_code == 2 and "no such file or directory" in missing.output
    assert run(str(project), "--format", "yaml").exit_code == 2


def test_empty_project_has_no_progress(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN)
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert "No module with database code (1 modules scanned)." in result.output
    status = project_status(tmp_path)
    assert status.progress is None and status.modules[0].state is ModuleState.NO_DATABASE_CODE
    assert json.loads(run(str(tmp_path), "--format", "json").output)["summary"]["progress"] is None


def test_helpers() -> None:
    assert count_run_sync_wraps(
        "async def f(s, conn):\n"
        "    await conn.run_sync(Base.metadata.create_all)\n"
        "    await conn.run_sync(metadata.drop_all)\n"
        "    await s.run_sync(lambda ss: ss.query(X).all())\n"
        "    await s.run_sync(legacy.get_book, 1)\n") == 2
    assert count_run_sync_wraps("x = 1\n") == 0
    assert find_markers("x = 1\n") == []
    [marker] = find_markers("x = 1\n    # TODO(sqla-asyncify SQA001): the URL is not a literal\n")
    assert (marker.line, marker.code, marker.message) == (2, "SQA001", "the URL is not a literal")
    assert not mentions_database('"""A Session, an engine: only words."""\n# session\nx = 1\n')
    assert mentions_database("def f(session):\n    return 1\n")
    assert mentions_database("from sqlmodel import Field\n")
