"""Equivalence suite: every legacy ``Query`` case returns the same thing after migration.

All cases of ``cases.py`` go into ONE generated legacy program (``generator.py``). Per test run
it is run once as is, migrated once per target with ``codemods.migrate_source`` and the
migrated program run once (``build_once.py``: the first pytest-xdist worker to need an artifact
builds it, the others load it); each test then compares one case:

* the normalised result (entities as ``("User", id)`` + loaded relationships, Rows, scalars,
  or the exception class name);
* the SQL the case executed: number of statements, verb of each, and whether it has ``LIMIT``;
* the driver: the async target must only use the async (aiosqlite / asyncpg) driver, legacy and the
  sync target the sync one;
* ``--target sync`` leaves no ``async def`` / ``await`` / ``async with`` / ``async for``;
* no TODO finding or marker for the case (cases where the tool chose ``run_sync`` must simply
  still be equal).

``UNSUPPORTED`` cases assert that the tool left its TODO, for the targets named in their
``todo`` field (their other targets are checked for equivalence like ``CASES``).
"""

from __future__ import annotations

import ast
import functools
import sys
import textwrap
from pathlib import Path

import pytest

from .build_once import BuildOnce, shared_directory
from .cases import CASES, UNSUPPORTED, Case
from .generator import Migrated, Program, Run, build_program, run_program

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from codemods import Config, migrate_source  # noqa: E402

# One generated program, migrated and run for each target: ~1 min of CPU in all.
pytestmark = pytest.mark.slow

TARGETS = ("async", "sync")
TODO_MARKER = "# TODO(sqla-asyncify"


# --- building and running, once per test run --------------------------------------------------
SQLITE = "sqlite://"
# On PostgreSQL the program names the dialect only (SQLAlchemy 2.1's default driver, psycopg 3,
# which the tool turns into asyncpg); the server and a fresh database for each run come from
# libpq's variables (PGHOST, PGDATABASE, ...), which psycopg and asyncpg both read.
POSTGRESQL = "postgresql://"


@functools.cache
def _program(url: str = SQLITE) -> Program:
    return build_program(CASES + UNSUPPORTED, url)


def _build_legacy(workdir: Path, url: str = SQLITE, env: dict | None = None) -> Run:
    return run_program(_program(url).source, workdir, "legacy_program.py", env=env)


def _build_migrated(target: str, workdir: Path, url: str = SQLITE,
                    env: dict | None = None) -> Migrated:
    program = _program(url)
    result = migrate_source(program.source, "legacy_program.py", Config(target=target))
    if result.error is not None:
        return Migrated(target, result, None, {}, frozenset(), False)
    functions: dict[str, str] = {}
    async_functions = set()
    tree = ast.parse(result.new_source)
    lines = result.new_source.splitlines()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = node.lineno - 1
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1  # comment lines right above the def belong to it
            functions[node.name] = "\n".join(lines[start:node.end_lineno])
            if _is_async(node):
                async_functions.add(node.name)
    run = run_program(result.new_source, workdir, f"migrated_{target}.py", env=env)
    return Migrated(target, result, run, functions, frozenset(async_functions), _is_async(tree))


def _is_async(node: ast.AST) -> bool:
    return any(isinstance(n, (ast.Await, ast.AsyncFunctionDef, ast.AsyncWith, ast.AsyncFor))
               for n in ast.walk(node))


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> BuildOnce:
    """The legacy run and the migrated runs, built once for all xdist workers of the run."""
    return _build_once(shared_directory(tmp_path_factory, "sqla-equivalence"), request, SQLITE,
                       lambda: None, "built")


@pytest.fixture(scope="session")
def built_on_postgresql(tmp_path_factory: pytest.TempPathFactory,
                        request: pytest.FixtureRequest, postgres) -> BuildOnce:
    """The same on PostgreSQL: each run (built by whichever worker) on a fresh database."""
    return _build_once(shared_directory(tmp_path_factory, "sqla-equivalence-postgresql"),
                       request, POSTGRESQL, lambda: postgres.env(postgres.create_database()),
                       "built_on_postgresql")


def _build_once(directory: Path, request: pytest.FixtureRequest, url: str, env,
                fixture: str) -> BuildOnce:
    needed = {"legacy"} | {
        item.callspec.params["target"] for item in request.session.items
        if getattr(item, "module", None) is sys.modules[__name__]
        and fixture in getattr(item, "fixturenames", ())
        and "target" in getattr(getattr(item, "callspec", None), "params", {})}
    return BuildOnce(directory, {
        "async": lambda: _build_migrated("async", directory, url, env()),
        "sync": lambda: _build_migrated("sync", directory, url, env()),
        "legacy": lambda: _build_legacy(directory, url, env()),
    }, needed)


def _migrated(built: BuildOnce, target: str) -> Migrated:
    return built.get(target)


def _legacy_results(built: BuildOnce) -> dict[str, dict]:
    legacy = built.get("legacy")
    assert legacy.results is not None and legacy.returncode == 0, (
        f"the legacy program itself fails (status {legacy.returncode}):\n{legacy.stderr[-4000:]}")
    return legacy.results


def _findings(migrated: Migrated, case: Case) -> list:
    first, last = _program().spans[case.name]
    return [f for f in migrated.result.findings if first <= f.line <= last]


def _kind(finding) -> str:
    return getattr(finding.kind, "value", finding.kind)


def _describe(migrated: Migrated, case: Case) -> str:
    findings = "\n".join(f"  {f.line}: {f.code} [{_kind(f)}] {f.message}"
                         for f in _findings(migrated, case)) or "  (none)"
    code = migrated.functions.get(case.function, "(function not found in migrated source)")
    return (f"--- legacy case ---\n{textwrap.indent(case.body, '    ')}\n"
            f"--- migrated ({migrated.target}) ---\n{code}\n--- findings in the case ---\n"
            f"{findings}")


def _migration_ok(migrated: Migrated) -> None:
    assert migrated.result.error is None, (
        f"migration ({migrated.target}) failed: {migrated.result.error} "
        f"(line {migrated.result.error_line})")
    run = migrated.run
    assert run is not None and run.results is not None, (
        f"the migrated ({migrated.target}) program printed no results "
        f"(status {run.returncode if run else None}):\n{(run.stderr if run else '')[-4000:]}")


# --- the program as a whole -------------------------------------------------------------------
def test_legacy_program_runs(built: BuildOnce) -> None:
    results = _legacy_results(built)
    assert set(results) == {c.name for c in CASES + UNSUPPORTED}
    drivers = {d for r in results.values() for d in r["drivers"]}
    assert drivers == {False}, "legacy statements must run on the sync pysqlite driver"


@pytest.mark.parametrize("target", TARGETS)
def test_migration_succeeds(target: str, built: BuildOnce) -> None:
    migrated = _migrated(built, target)
    _migration_ok(migrated)
    assert migrated.run.returncode == 0, migrated.run.stderr[-4000:]
    if target == "sync":
        assert not migrated.module_is_async, (
            "--target sync left async code in: "
            f"{sorted(migrated.async_functions) or 'the module (outside top-level functions)'}")
    else:
        assert migrated.main_is_async, "--target async left main() synchronous"
    # No TODO outside the case functions (models, helpers, main) and none at all for CASES.
    spans = _program().spans
    stray = [f for f in migrated.result.findings if _kind(f) == "todo"
             and not any(a <= f.line <= b for a, b in spans.values())]
    # Findings without a usable line are reported by test_findings_have_lines; here only the
    # ones pointing at the scaffolding count.
    stray = [f for f in stray if f.line >= 1]
    assert not stray, "TODOs outside the cases:\n" + "\n".join(map(str, stray))


@pytest.mark.parametrize("target", TARGETS)
def test_findings_have_lines(target: str, built: BuildOnce) -> None:
    """Every finding points at a line of the original file (1-based)."""
    migrated = _migrated(built, target)
    assert migrated.result.error is None, migrated.result.error
    lines = len(_program().source.splitlines())
    bad = [f for f in migrated.result.findings if not 1 <= f.line <= lines]
    assert not bad, f"{len(bad)} findings with no line in 1..{lines}, e.g.:\n" + "\n".join(
        f"  line={f.line} {f.code} [{_kind(f)}] {f.message}" for f in bad[:5])


KEPT_LEGACY = "kept the legacy query: "

# --- one test per case and target -------------------------------------------------------------
EQUIVALENT = [pytest.param(t, c, id=f"{t}-{c.name}")
              for t in TARGETS for c in CASES + UNSUPPORTED if t not in c.todo]
LEAVES_TODO = [pytest.param(t, c, id=f"{t}-{c.name}")
               for t in TARGETS for c in UNSUPPORTED if t in c.todo]


@pytest.mark.parametrize(("target", "case"), EQUIVALENT)
def test_case_equivalent(target: str, case: Case, built: BuildOnce) -> None:
    legacy = _legacy_results(built)[case.name]
    migrated = _migrated(built, target)
    _migration_ok(migrated)
    new = migrated.run.results.get(case.name)
    assert new is not None, f"{case.name} missing from the migrated output"

    problems = []
    # --target sync keeps a chain with no faithful select() as a legacy Query (still run, so
    # still compared below) and says so in a TODO; anything else is a TODO too many
    todos = [f for f in _findings(migrated, case) if _kind(f) == "todo" and not (
        target == "sync" and f.message.startswith(KEPT_LEGACY))]
    if todos:
        problems.append("the tool left a TODO for a supported case")
    if target == "sync" and case.function in migrated.async_functions:
        problems.append("--target sync made the case asynchronous")
    if new["result"] != legacy["result"]:
        problems.append(f"result differs:\n  legacy:   {legacy['result']}"
                        f"{'  (' + legacy['detail'] + ')' if legacy['detail'] else ''}\n"
                        f"  migrated: {new['result']}"
                        f"{'  (' + new['detail'] + ')' if new['detail'] else ''}")
    if new["sql"] != legacy["sql"]:
        problems.append(f"SQL differs ([verb, has LIMIT] per statement):\n"
                        f"  legacy:   {legacy['sql']}\n  migrated: {new['sql']}")
    expected_driver = [True] if target == "async" else [False]
    if new["sql"] and new["drivers"] != expected_driver:
        problems.append(f"driver is_async flags {new['drivers']}, expected {expected_driver}")
    assert not problems, f"{case.name} [{target}]: " + "\n".join(problems) + "\n" + _describe(
        migrated, case)


@pytest.mark.parametrize(("target", "case"), LEAVES_TODO)
def test_unsupported_case_has_todo(target: str, case: Case, built: BuildOnce) -> None:
    migrated = _migrated(built, target)
    assert migrated.result.error is None, migrated.result.error
    todos = [f for f in migrated.result.findings if _kind(f) == "todo"]
    code = migrated.functions.get(case.function, "")
    assert TODO_MARKER in code, (
        f"{case.name} [{target}]: expected a TODO marker in the migrated function "
        f"({len(todos)} TODO findings in the file)\n" + _describe(migrated, case))


# --- the same on PostgreSQL: psycopg before, asyncpg after -----------------------------------
def test_legacy_program_runs_on_postgresql(built_on_postgresql: BuildOnce) -> None:
    test_legacy_program_runs(built_on_postgresql)


@pytest.mark.parametrize("target", TARGETS)
def test_migration_succeeds_on_postgresql(target: str, built_on_postgresql: BuildOnce) -> None:
    test_migration_succeeds(target, built_on_postgresql)
    expected = (f"create_async_engine({'postgresql+asyncpg://'!r})" if target == "async"
                else f"create_engine({POSTGRESQL!r})")
    assert expected in _migrated(built_on_postgresql, target).result.new_source


@pytest.mark.parametrize(("target", "case"), EQUIVALENT)
def test_case_equivalent_on_postgresql(target: str, case: Case,
                                       built_on_postgresql: BuildOnce) -> None:
    test_case_equivalent(target, case, built_on_postgresql)


# --- premises of the harness ------------------------------------------------------------------
ASYNC_CAPTURE = """
import asyncio
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

seen = []
event.listen(Engine, "before_cursor_execute",
             lambda conn, cur, stmt, params, ctx, many: seen.append((stmt, conn.dialect.is_async)))


async def main():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with AsyncSession(engine) as session:
        await session.execute(text("SELECT 1 LIMIT 1"))
    await engine.dispose()
    print("seen:", seen)

asyncio.run(main())
"""


def test_engine_class_listener_fires_for_async_engines(tmp_path: Path) -> None:
    """The SQL capture premise: a class-level Engine listener sees AsyncEngine statements."""
    run = run_program(ASYNC_CAPTURE, tmp_path, "capture_premise.py")
    assert run.returncode == 0, run.stderr
    assert "('SELECT 1 LIMIT 1', True)" in run.stdout


ENGINE_LISTENER = """
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

seen = []


def capture(conn, cursor, statement, parameters, context, executemany):
    seen.append(statement)


event.listen(Engine, "before_cursor_execute", capture)
engine = create_engine("sqlite://")


def main():
    with Session(engine) as session:
        session.execute(text("SELECT 42"))
    print("statements seen:", seen)


if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize("target", TARGETS)
def test_engine_class_event_target(target: str, tmp_path: Path) -> None:
    """Reference §7: listeners stay on the `Engine` class (it also fires for async engines);
    `AsyncEngine` takes no events (NotImplementedError)."""
    result = migrate_source(ENGINE_LISTENER, "listener.py", Config(target=target))
    assert result.error is None, result.error
    run = run_program(result.new_source, tmp_path, f"listener_{target}.py")
    assert run.returncode == 0 and "SELECT 42" in run.stdout, (
        f"migrated listener program fails:\n{run.stderr[-1500:]}\n--- migrated ---\n"
        f"{result.new_source}")
