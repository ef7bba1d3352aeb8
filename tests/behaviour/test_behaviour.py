"""Behaviour tests: a migrated program prints exactly what the original printed.

Every ``programs/*.py`` is a self-contained synchronous SQLAlchemy program; a folder
``programs/<name>/`` is a program of several modules (one importing another), migrated as one
project, and each of its modules is run in turn (sorted by name, in one working folder), so a
module can be checked both as imported and as run. For each program:

1. run the original with ``sys.executable`` and keep its stdout;
2. migrate the source with ``codemods.migrate_source`` (a folder: ``migrate_sources``);
3. check the migrated source statically (it parses; no ``.query(...)`` call and no
   ``create_engine(...)`` call is left);
4. run it through ``run_guarded.py`` with ``-W error::RuntimeWarning``; the runner fails when a
   synchronous DBAPI connection was opened (status 3) or a coroutine was never awaited (4);
5. require exit status 0 and byte-identical stdout.

Each single-module program is also migrated with ``--target sync`` and must print the same
there (a legacy ``.query()`` may stay only under a TODO). A program marked
``# behaviour: --target sync only`` (Flask-SQLAlchemy, which has no asyncio session) is
checked that way only.

A failure shows everything at once: the stdout diff, the runner's stderr, the findings and the
numbered migrated source.

The last tests check the harness itself (the runner), so they pass without the engine.
"""

from __future__ import annotations

import ast
import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from forkserver import ForkServer

from tests.child_pytest import PYTEST_OPTIONS

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
RUNNER = HERE / "run_guarded.py"
# `# behaviour: --target sync only`: a stack with no asyncio session (Flask-SQLAlchemy)
SYNC_ONLY_MARK = "# behaviour: --target sync only"
ALL_PROGRAMS = sorted((HERE / "programs").glob("*.py"))
PROGRAMS = [p for p in ALL_PROGRAMS if SYNC_ONLY_MARK not in p.read_text("utf-8")]
# programs of several modules: each module is run in turn
FOLDER_PROGRAMS = sorted(p for p in (HERE / "programs").iterdir()
                         if p.is_dir() and not p.name.startswith(("_", ".")))
TIMEOUT = 60  # seconds, per subprocess

# Every test runs Python subprocesses (the original and the guarded migrated program): 1.5-5 s.
pytestmark = pytest.mark.slow

# The runner's exit statuses (see run_guarded.py).
EXIT_SYNC_CONNECTION = 3
EXIT_UNRAISABLE = 4


def _environment(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8", **(extra_env or {}))
    env.pop("PYTHONWARNINGS", None)
    return env


# Programs run in forks of warm interpreters (forkserver.py: the same run as a fresh `python`,
# without starting one and importing SQLAlchemy each time); the originals on one, the migrated
# programs on another, so that the two runs compared have different hash seeds.
ORIGINALS = ForkServer(_environment())
MIGRATED = ForkServer(_environment())


@pytest.fixture(scope="session", autouse=True)
def _fork_servers():
    yield
    for server in (ORIGINALS, MIGRATED):
        server.close()


def _run(args: list[str], cwd: Path, extra_env: dict[str, str] | None = None,
         server: ForkServer | None = None) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in `cwd`: in a fork of `server`, or (None) a fresh interpreter."""
    env = _environment(extra_env)
    if server is not None:
        return server.run(args, cwd, env, TIMEOUT)
    try:
        return subprocess.run(
            [sys.executable, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:

        def text(data: bytes | str | None) -> str:
            return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")

        return subprocess.CompletedProcess(
            exc.cmd, -1, text(exc.stdout), text(exc.stderr) + f"\n[timed out after {TIMEOUT} s]"
        )


def _run_original(program: Path, tmp_path: Path, env: dict[str, str] | None = None,
                  server: ForkServer | None = ORIGINALS) -> subprocess.CompletedProcess[str]:
    workdir = tmp_path / "original"
    if program.is_dir():
        shutil.copytree(program, workdir)
        return _run_each(sorted(workdir.glob("*.py")), lambda path: [str(path)], "the original",
                         env, server)
    workdir.mkdir()
    proc = _run([str(program)], cwd=workdir, extra_env=env, server=server)
    assert proc.returncode == 0, (
        f"the original {program.name} itself fails (status {proc.returncode}):\n{proc.stderr}"
    )
    return proc


def _run_each(modules: list[Path], command, what: str, env: dict[str, str] | None = None,
              server: ForkServer | None = None) -> subprocess.CompletedProcess[str]:
    """Run the modules of a folder program one after the other (in their folder); stdout of
    each under a `== module.py` line. Stops at the first that fails."""
    out, err = [], []
    for module in modules:
        proc = _run(command(module), cwd=module.parent, extra_env=env, server=server)
        out.append(f"== {module.name}\n{proc.stdout}")
        err.append(f"== {module.name}\n{proc.stderr}")
        if proc.returncode != 0:
            assert what != "the original", (
                f"the original {module.name} itself fails (status {proc.returncode}):\n"
                f"{proc.stderr}")
            return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(out),
                                               "".join(err))
    return subprocess.CompletedProcess([], 0, "".join(out), "".join(err))


def _guarded(program: Path) -> list[str]:
    return ["-W", "error::RuntimeWarning", str(RUNNER), str(program)]


def _run_guarded(program: Path, env: dict[str, str] | None = None,
                 server: ForkServer | None = MIGRATED) -> subprocess.CompletedProcess[str]:
    if program.is_dir():
        return _run_each(sorted(program.glob("*.py")), _guarded, "the migrated program", env,
                         server)
    return _run(_guarded(program), cwd=program.parent, extra_env=env, server=server)


def _migrate_source():
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        from codemods import migrate_source
    except ImportError as exc:
        pytest.fail(f"cannot import codemods.migrate_source: {exc}")
    return migrate_source


def _migrate(program: Path):
    """The migration result of each module of the program, by file name."""
    if not program.is_dir():
        source = program.read_text(encoding="utf-8")
        return {program.name: (source, _migrate_source()(source, str(program)))}
    _migrate_source()
    from codemods import migrate_sources
    from codemods.sources import SourceFile

    sources = [SourceFile.read(path) for path in sorted(program.glob("*.py"))]
    return {Path(s.path).name: (s.text, r) for s, r in zip(sources, migrate_sources(sources),
                                                           strict=True)}


def _leftover_sync_calls(tree: ast.AST, source: str) -> list[str]:
    """Lines of `<anything>.query(...)` and `create_engine(...)` calls left in the tree,
    outside functions the tool reports (SQA303 TODO above them) as kept synchronous (a Query
    built on `session.sync_session` is run only inside run_sync: the program's run says so)."""
    found = []
    lines = source.splitlines()
    # the line spans of those functions, found once (not a walk of the tree for each call)
    kept_spans = [
        (node.lineno, node.end_lineno or node.lineno) for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.lineno - 1 >= 1
        and "TODO(sqla-asyncify SQA303)" in lines[_decorated_start(node) - 2]
    ]
    # what runs inside `session.run_sync(lambda sync_session: ...)` runs on the sync session
    in_run_sync = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and isinstance(node.func, ast.Attribute) and node.func.attr == "run_sync"
                   and node.args and isinstance(node.args[0], ast.Lambda)
                   for inner in ast.walk(node.args[0])}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in in_run_sync:
            continue
        if any(start <= node.lineno <= end for start, end in kept_spans):
            continue  # inside a function kept synchronous
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "query" and not (
                isinstance(func.value, ast.Attribute) and func.value.attr == "sync_session"):
            found.append(f"line {node.lineno}: .query(...) call")
        elif (isinstance(func, ast.Name) and func.id == "create_engine") or (
            isinstance(func, ast.Attribute) and func.attr == "create_engine"
        ):
            found.append(f"line {node.lineno}: create_engine(...) call")
    return found


def _decorated_start(node: ast.FunctionDef) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def _numbered(source: str) -> str:
    return "\n".join(f"{n:4} | {line}" for n, line in enumerate(source.splitlines(), 1))


def _stdout_diff(expected: str, actual: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            "original stdout",
            "migrated stdout",
        )
    )


@pytest.mark.parametrize("program", [pytest.param(p, id=p.stem)
                                     for p in [*PROGRAMS, *FOLDER_PROGRAMS]])
def test_migrated_program_behaves_the_same(program: Path, tmp_path: Path) -> None:
    _check_program(program, tmp_path)


def _check_program(program: Path, tmp_path: Path, env_before: dict[str, str] | None = None,
                   env_after: dict[str, str] | None = None) -> None:
    """Run the original (in `env_before`), migrate it, run the migrated program guarded (in
    `env_after`) and compare."""
    original = _run_original(program, tmp_path, env_before)

    migrated_dir = tmp_path / "migrated"
    migrated_dir.mkdir()
    problems, findings, shown = [], [], []
    results = _migrate(program)
    for name, (_source, result) in results.items():
        findings += [f"  {name}:{f.line}: {f.code} [{getattr(f.kind, 'value', f.kind)}] "
                     f"{f.message}" for f in result.findings]
        assert result.error is None, f"migration of {name} failed: {result.error}"
        migrated = result.new_source
        try:
            problems += [f"{name} {p}" for p in _leftover_sync_calls(
                ast.parse(migrated, filename=name), migrated)]
        except SyntaxError as exc:
            problems.append(f"the migrated {name} does not parse: {exc}")
        (migrated_dir / name).write_text(migrated, encoding="utf-8")
        shown.append(f"--- migrated {name} ---\n{_numbered(migrated)}")
    if all(source == result.new_source for source, result in results.values()):
        problems.append("the migrated source is identical to the original")

    run = _run_guarded(migrated_dir if program.is_dir() else migrated_dir / program.name,
                       env_after)
    if run.returncode != 0:
        problems.append(f"the migrated program exited with status {run.returncode}")
    if run.stdout != original.stdout:
        problems.append("stdout differs:\n" + _stdout_diff(original.stdout, run.stdout))

    assert not problems, (
        f"{program.name}: "
        + "\n".join(problems)
        + f"\n\n--- stderr of the migrated run ---\n{run.stderr}"
        + f"\n--- findings ---\n{chr(10).join(findings) or '  (none)'}\n"
        + "\n".join(shown)
    )

# --- the same programs on PostgreSQL -------------------------------------------------------
# In a copy of each program its SQLite URL literals become the bare `postgresql://` (under
# SQLAlchemy 2.1 its default PostgreSQL driver is psycopg 3), which the tool must turn into
# `postgresql+asyncpg://` like any URL. The server and a fresh database for each run (the
# original's, the migrated program's) come from libpq's variables PGHOST, PGPORT, PGUSER and
# PGDATABASE, which psycopg and asyncpg both read: the programs stay as they are apart from
# the URL. A program whose SQL or setup only SQLite takes says so in a
# `# behaviour: sqlite only: <why>` line and is skipped here with that reason.

SQLITE_URL = re.compile(r"""(["'])sqlite(?:\+\w+)?://[^"']*\1""")
SQLITE_ONLY = "# behaviour: sqlite only:"
POSTGRESQL_URL = "postgresql://"


def _on_postgresql(program: Path, folder: Path) -> Path:
    """A copy of the program in `folder` whose SQLite URLs name PostgreSQL instead."""
    sources = sorted(program.glob("*.py")) if program.is_dir() else [program]
    texts = {source.name: source.read_text(encoding="utf-8") for source in sources}
    reasons = [line.partition(SQLITE_ONLY)[2].strip() for text in texts.values()
               for line in text.splitlines() if SQLITE_ONLY in line]
    if reasons:
        pytest.skip(f"SQLite only: {reasons[0]}")
    target = folder / program.name if program.is_dir() else folder
    target.mkdir(parents=True)
    replaced = 0
    for name, text in texts.items():
        text, count = SQLITE_URL.subn(f'"{POSTGRESQL_URL}"', text)
        replaced += count
        (target / name).write_text(text, encoding="utf-8")
    assert replaced, f"{program.name}: no SQLite URL literal to point at PostgreSQL"
    return target if program.is_dir() else target / program.name


@pytest.mark.parametrize("program", [pytest.param(p, id=p.stem)
                                     for p in [*PROGRAMS, *FOLDER_PROGRAMS]])
def test_migrated_program_behaves_the_same_on_postgresql(program: Path, tmp_path: Path,
                                                         postgres) -> None:
    copy = _on_postgresql(program, tmp_path / "on_postgresql")
    _check_program(copy, tmp_path, postgres.env(postgres.create_database()),
                   postgres.env(postgres.create_database()))
    migrated = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "migrated").iterdir())
    assert "postgresql+asyncpg://" in migrated, "the URL does not name asyncpg after migration"


# The URL forms SQA001 moves to asyncpg, on the server: libpq's `sslmode` (asyncpg's `ssl`),
# URL objects built from parts, parsed, or given another driver.
URL_FORMS_PROGRAM = """\
import os

from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.engine import Engine

HOST, PORT, DB = os.environ["PGHOST"], int(os.environ["PGPORT"]), os.environ["PGDATABASE"]

with_sslmode = create_engine(
    f"postgresql://postgres@{HOST}:{PORT}/{DB}?sslmode=disable&target_session_attrs=any")
from_parts = create_engine(URL.create("postgresql", username="postgres", host=HOST, port=PORT,
                                      database=DB))
parsed = create_engine(make_url(f"postgresql://postgres@{HOST}:{PORT}/{DB}?sslmode=prefer"))
switched = create_engine(make_url(os.environ["SHOP_URL"]).set(drivername="postgresql"))


def check(name: str, engine: Engine) -> None:
    with engine.connect() as conn:
        same = conn.execute(text("SELECT current_database() = :db"), {"db": DB}).scalar()
    print(name, "reaches the test database:", same)


def main() -> None:
    check("sslmode", with_sslmode)
    check("URL.create", from_parts)
    check("make_url", parsed)
    check("set(drivername=...)", switched)


if __name__ == "__main__":
    main()
"""


def test_url_forms_reach_postgresql_through_asyncpg(tmp_path: Path, postgres) -> None:
    program = tmp_path / "url_forms.py"
    program.write_text(URL_FORMS_PROGRAM, encoding="utf-8")
    database = postgres.create_database()
    # the URL an environment variable holds: its driver is set in the code
    env = {**postgres.env(database), "SHOP_URL": postgres.url("postgresql+psycopg", database)}
    _check_program(program, tmp_path, env, env)
    migrated = (tmp_path / "migrated" / program.name).read_text(encoding="utf-8")
    assert migrated.count("postgresql+asyncpg") == 4 and "sslmode=" not in migrated, migrated


# Every program is migrated with `--target sync` too (2.0-style select() on the same
# synchronous session) and must print the same; a legacy `.query()` may stay only under a
# TODO saying why.
@pytest.mark.parametrize("program", [pytest.param(p, id=p.stem) for p in ALL_PROGRAMS])
def test_program_migrated_with_target_sync_behaves_the_same(program: Path,
                                                            tmp_path: Path) -> None:
    from codemods import Config

    original = _run_original(program, tmp_path)
    result = _migrate_source()(program.read_text(encoding="utf-8"), str(program),
                               Config(target="sync"))
    assert result.error is None, result.error
    lines = result.new_source.splitlines()

    def marked(lineno: int) -> bool:
        above = lineno - 2
        while above >= 0 and lines[above].lstrip().startswith("#"):
            if "TODO(sqla-asyncify" in lines[above]:
                return True
            above -= 1
        return False

    legacy = [node.lineno for node in ast.walk(ast.parse(result.new_source))
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "query" and not marked(node.lineno)]
    migrated = tmp_path / program.name
    migrated.write_text(result.new_source, encoding="utf-8")
    run = _run([str(migrated)], tmp_path, server=MIGRATED)
    assert (run.returncode, run.stdout, legacy) == (0, original.stdout, []), (
        f"legacy .query() left on lines {legacy}\n"
        + _stdout_diff(original.stdout, run.stdout)
        + f"\n{run.stderr}\n--- migrated source ---\n{_numbered(result.new_source)}")


# --- the soundness net, run ---------------------------------------------------------------
# Where the migration leaves a call that returns a coroutine nobody awaits, the migrated
# program fails under the guard, and the file must say so at that call (SQA306): the program
# reaches its repository through an object the tool cannot resolve (an attribute of a
# namespace built at run time), so the colouring cannot await the call.

UNRESOLVED_PROGRAM = '''\
from types import SimpleNamespace

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]


class Notes:
    def add(self, session: Session, text: str) -> None:
        session.add(Note(text=text))
        session.commit()


engine = create_engine("sqlite://")


def main() -> None:
    Base.metadata.create_all(engine)
    repos = SimpleNamespace(notes=Notes())
    with Session(engine) as session:
        repos.notes.add(session, "hello")
        print("saved")


if __name__ == "__main__":
    main()
'''


def test_a_forgotten_await_the_guard_sees_carries_a_marker(tmp_path: Path) -> None:
    result = _migrate_source()(UNRESOLVED_PROGRAM, "notes.py")
    assert result.error is None, result.error
    program = tmp_path / "notes.py"
    program.write_text(result.new_source, encoding="utf-8")

    run = _run_guarded(program)
    assert run.returncode == EXIT_UNRAISABLE, run.stderr
    assert "Notes.add' was never awaited" in run.stderr

    call = next(n for n, line in enumerate(result.new_source.splitlines(), 1)
                if "repos.notes.add(" in line)
    from codemods.todo import find_markers

    markers = {m.line: m for m in find_markers(result.new_source)}
    assert call - 1 in markers and markers[call - 1].code == "SQA306", result.new_source
    assert "Notes.add() became async" in markers[call - 1].message


# --- programs with their own tests ---------------------------------------------------------
# `suites/<name>/` holds folders of pytest tests for the programs its `programs.txt` names
# (files of `programs/`, copied beside the folders); each folder is run on its own, so what
# one folder's tests need cannot come from another's. Programs and tests are migrated as one
# project; every test folder must pass before and after, the migrated run guarded as above
# (pytest runs inside run_guarded.py).

SUITES = sorted(p for p in (HERE / "suites").iterdir() if p.is_dir())
_PYTEST = ["-q", *PYTEST_OPTIONS, "-o", "asyncio_default_fixture_loop_scope=function"]
_PYTEST_MAIN = """\
import sys

import pytest

raise SystemExit(pytest.main(sys.argv[1:]))
"""


def _test_folders(suite: Path) -> list[str]:
    return sorted(p.name for p in suite.iterdir() if p.is_dir() and any(p.glob("test_*.py")))


@pytest.mark.parametrize("suite", [pytest.param(p, id=p.name) for p in SUITES])
def test_migrated_suite_passes_its_own_tests(suite: Path, tmp_path: Path) -> None:
    original, migrated = tmp_path / "original", tmp_path / "migrated"
    shutil.copytree(suite, original, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (suite / "programs.txt").read_text(encoding="utf-8").split():
        shutil.copy(HERE / "programs" / name, original / name)
    _migrate_source()
    from codemods import migrate_sources
    from codemods.sources import SourceFile

    sources = [SourceFile.read(path) for path in sorted(original.rglob("*.py"))]
    results = migrate_sources(sources)
    assert all(r.error is None for r in results), [r.error for r in results]
    assert any(r.changed for r in results if Path(r.path).name.startswith(("test_", "conftest")))
    for source, result in zip(sources, results, strict=True):
        target = migrated / Path(source.path).relative_to(original)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.new_source, encoding="utf-8")
    (migrated / "_pytest_main.py").write_text(_PYTEST_MAIN, encoding="utf-8")
    findings = "\n".join(f"  {Path(r.path).relative_to(original)}:{f.line}: {f.code} {f.message}"
                         for r in results for f in r.findings)

    for folder in _test_folders(suite):
        before = _run(["-m", "pytest", *_PYTEST, folder], cwd=original)
        assert before.returncode == 0, f"the original {folder} tests fail:\n{before.stdout}"
        after = _run([*_guarded(migrated / "_pytest_main.py"), *_PYTEST, "-W",
                      "error::RuntimeWarning", folder], cwd=migrated)
        summary = before.stdout.strip().splitlines()[-1].partition(" in ")[0]
        assert after.returncode == 0 and summary in after.stdout, (
            f"{suite.name}/{folder}: the migrated tests fail (status {after.returncode}; "
            f"before: {summary}):\n{after.stdout}\n{after.stderr}\n--- findings ---\n"
            f"{findings}")


# --- programs only SQLAlchemy 1.x ran ----------------------------------------------------
# `recorded/<name>.py` uses what 2.x refuses (SQL given as a plain string), so the original
# cannot run here: `<name>.out` holds what it printed under SQLAlchemy 1.4.54. The migrated
# program, with either target, must print the same on 2.x.

RECORDED = sorted((HERE / "recorded").glob("*.py"))


@pytest.mark.parametrize("target", ["async", "sync"])
@pytest.mark.parametrize("program", [pytest.param(p, id=p.stem) for p in RECORDED])
def test_migrated_program_prints_what_sqlalchemy_1_4_printed(program: Path, target: str,
                                                             tmp_path: Path) -> None:
    from codemods import Config

    result = _migrate_source()(program.read_text(encoding="utf-8"), str(program),
                               Config(target=target))
    assert result.error is None, result.error
    migrated = tmp_path / program.name
    migrated.write_text(result.new_source, encoding="utf-8")
    run = (_run_guarded(migrated) if target == "async"
           else _run([str(migrated)], tmp_path, server=MIGRATED))
    expected = program.with_suffix(".out").read_text(encoding="utf-8")
    assert (run.returncode, run.stdout) == (0, expected), (
        f"{run.stderr}\n--- migrated source ---\n{_numbered(result.new_source)}")


# --- the harness itself ---------------------------------------------------------------------

ASYNC_PROGRAM = """
import asyncio

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(20))


engine = create_async_engine("sqlite+aiosqlite://")


async def main():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        note = Note(text="hello")
        session.add(note)
        await session.commit()
        await session.delete(note)
        await session.commit()
        print("left:", (await session.scalars(select(Note.text))).all())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
"""


# Each harness test runs in fresh interpreters (`python run_guarded.py ...`, the real entry
# point) and in forks of the warm ones the program tests use.
RUNS = [pytest.param(None, id="fresh"), pytest.param(MIGRATED, id="forked")]


@pytest.mark.parametrize("server", RUNS)
def test_guard_flags_a_sync_connection_and_keeps_stdout(tmp_path: Path,
                                                        server: ForkServer | None) -> None:
    program = PROGRAMS[0]
    original = _run_original(program, tmp_path, server=server and ORIGINALS)
    run = _run_guarded(program, server=server)
    assert run.returncode == EXIT_SYNC_CONNECTION, run.stderr
    assert "sqlite3.Connection" in run.stderr
    assert run.stdout == original.stdout


@pytest.mark.parametrize("server", RUNS)
def test_guard_passes_async_code_and_flags_a_forgotten_await(tmp_path: Path,
                                                             server: ForkServer | None) -> None:
    good = tmp_path / "good.py"
    good.write_text(ASYNC_PROGRAM, encoding="utf-8")
    run = _run_guarded(good, server=server)
    assert (run.returncode, run.stdout) == (0, "left: []\n"), run.stderr

    forgetful = tmp_path / "forgetful.py"
    forgetful.write_text(
        ASYNC_PROGRAM.replace("await session.delete(note)", "session.delete(note)"),
        encoding="utf-8",
    )
    run = _run_guarded(forgetful, server=server)
    assert run.returncode == EXIT_UNRAISABLE, run.stderr
    assert "AsyncSession.delete' was never awaited" in run.stderr


EXIT_PROGRAM = """\
import atexit
import os
import random
import sys
import threading
import time

atexit.register(lambda: print("atexit ran", flush=True))
worker = threading.Thread(target=lambda: (time.sleep(0.2), print("thread joined")))
worker.start()
print(sys.argv[1:], os.path.basename(sys.path[0]), os.path.basename(os.getcwd()),
      os.environ.get("SHOP"), len({random.random() for _ in range(2)}), "é")
print("to stderr", file=sys.stderr)
raise SystemExit(int(sys.argv[1]))
"""


@pytest.mark.parametrize("status", [0, 5])
def test_a_forked_run_is_a_fresh_interpreters_run(tmp_path: Path, status: int) -> None:
    """What a program sees and leaves: argv, sys.path[0], the working folder, the environment,
    a reseeded `random`, UTF-8 streams, non-daemon threads joined and atexit run before the
    exit, its status; a program the guard runs is flagged the same way; a run past its
    timeout is stopped."""
    folder = tmp_path / "here"
    folder.mkdir()
    script = folder / "exits.py"
    script.write_text(EXIT_PROGRAM, encoding="utf-8")
    args = ["-W", "error::RuntimeWarning", str(script), str(status)]
    env = _environment({"SHOP": "open"})
    fresh = subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True,
                           text=True, encoding="utf-8", timeout=TIMEOUT)
    served = MIGRATED.forked
    forked = MIGRATED.run(args, folder, env, TIMEOUT)
    assert MIGRATED.forked == served + 1, "the run was not a fork of the server"
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        fresh.returncode, fresh.stdout, fresh.stderr) == (
        status, f"['{status}'] here here open 2 é\nthread joined\natexit ran\n",
        "to stderr\n")
    for n, program in enumerate((PROGRAMS[0], FOLDER_PROGRAMS[0])):
        (tmp_path / f"fresh{n}").mkdir()
        (tmp_path / f"forked{n}").mkdir()
        fresh = _run_original(program, tmp_path / f"fresh{n}", server=None)
        forked = _run_original(program, tmp_path / f"forked{n}", server=ORIGINALS)
        assert (forked.returncode, forked.stdout) == (fresh.returncode, fresh.stdout) == (
            0, fresh.stdout)
    guarded = [_run_guarded(PROGRAMS[0], server=server).returncode
               for server in (None, MIGRATED)]
    assert guarded == [EXIT_SYNC_CONNECTION] * 2
    sleeper = folder / "sleeps.py"
    sleeper.write_text("import time\nprint('started', flush=True)\ntime.sleep(30)\n")
    stopped = MIGRATED.run([str(sleeper)], folder, env, 1)
    assert (stopped.returncode, stopped.stdout) == (-1, "started\n")
    assert "timed out after 1 s" in stopped.stderr
