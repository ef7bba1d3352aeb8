#!/usr/bin/env python3
"""Measure sqla-asyncify on a corpus of real public projects (see manifest.toml).

For each project and target the runner copies the project's source, migrates the copy with
`python -m cli migrate ... --write --format json --no-cache` (the tool taken from `--repo`),
and compares the copy with the original, statically:

* legacy Query chains in the original and in the output (`legacy_chains` says what counts);
* each chain left in the output is `run_sync` (inside a lambda or function handed to
  `run_sync(`), `todo` (its statement carries a `# TODO(sqla-asyncify` marker) or `silent`;
* with the async target, calls of functions the tool made `async def` that are not awaited
  (`unawaited_calls`: exact where the module's syntax resolves the callee, else by name,
  skipping receivers provably not of the project — so it may still over-report);
* with the async target, legacy chains left on an AsyncSession (`on_async_session`), which
  fail when they run;
* with `--tests`, the project's own suite on the original and on the migrated copy (and how
  many lines of the migrated suite's output say `ASYNC_QUERY_ERROR`).

Standard library only; Python 3.11+. The sources are never changed: everything runs on copies.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import zip_longest
from pathlib import Path

import tomllib
from async_sessions import AsyncSessions
from receivers import (
    FUNCTIONS,
    ancestors,
    module_instances,
    module_name,
    outside_fixtures,
    parent_map,
    project_imports,
    receiver_is_outside,
    resolved_in_module,
)

HERE = Path(__file__).resolve().parent
DEFAULT_REPO = HERE.parents[1]
MANIFEST = HERE / "manifest.toml"
DEFAULT_SRC = Path("/work/corpus-src")
VENVS = Path("/work/corpus-venvs")

# The tool's marker prefix (codemods/todo.py). Copied, not imported: the runner measures a
# checkout of the tool and must not depend on importing it.
TODO_PREFIX = "# TODO(sqla-asyncify"
ASYNC_TEST_REQUIRES = ("aiosqlite", "greenlet", "pytest-asyncio")
# A call of a converted function passed straight to one of these is not an un-awaited call.
HANDLERS = frozenset(
    {"run_sync", "run", "create_task", "gather", "ensure_future", "wait_for", "shield", "Depends"}
)
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".tox", ".nox", ".venv", "venv", "node_modules", "__pycache__", "build"}
)
EXAMPLES = 5
DETAIL_FILES = 10


@dataclass(frozen=True)
class Project:
    """One `[[project]]` table of the manifest."""

    name: str
    repo: str
    commit: str
    subpath: str
    kind: str
    test_command: tuple[str, ...] = ()
    test_cwd: str = ""
    test_requires: tuple[str, ...] = ()
    test_env: dict[str, str] = field(default_factory=dict)
    test_pythonpath: tuple[str, ...] = ()
    install_project: bool = False
    scripts: tuple[str, ...] = ()  # globs relative to the repo root: programs run as they are
    notes: str = ""

    @classmethod
    def from_table(cls, table: dict[str, object]) -> Project:
        def strings(key: str) -> tuple[str, ...]:
            value = table.get(key, [])
            assert isinstance(value, list), f"{key} must be a list"
            return tuple(str(item) for item in value)

        env = table.get("test_env", {})
        assert isinstance(env, dict), "test_env must be a table"
        return cls(
            name=str(table["name"]),
            repo=str(table["repo"]),
            commit=str(table["commit"]),
            subpath=str(table.get("subpath", "")),
            kind=str(table["kind"]),
            test_command=strings("test_command"),
            test_cwd=str(table.get("test_cwd", "")),
            test_requires=strings("test_requires"),
            test_env={str(k): str(v) for k, v in env.items()},
            test_pythonpath=strings("test_pythonpath"),
            install_project=bool(table.get("install_project", False)),
            scripts=strings("scripts"),
            notes=str(table.get("notes", "")),
        )


@dataclass
class Location:
    """A place in a migrated file: path relative to the project root, line, the line's text."""

    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}  {self.text}"


@dataclass
class TestRun:
    """One run of a project's suite, from pytest's summary line."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    returncode: int | None = None
    seconds: float = 0.0
    summary: str = ""
    problems: list[str] = field(default_factory=list)  # FAILED/ERROR lines, or why it did not run
    async_query_lines: int = 0  # output lines saying ASYNC_QUERY_ERROR

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors

    def short(self) -> str:
        return f"{self.passed}/{self.total}" if self.summary else "n/a"


@dataclass
class TargetResult:
    """What migrating one project to one target did."""

    target: str
    chains: int = 0
    remaining: int = 0
    run_sync: int = 0
    todo: int = 0
    silent: int = 0
    unawaited: int = 0
    # legacy chains left (with their TODO) where the session is an AsyncSession: in an async
    # function, on a parameter annotated AsyncSession, or on a session expression the project
    # uses as one elsewhere (they fail when they run)
    legacy_on_async: int = 0
    legacy_on_async_at: list[Location] = field(default_factory=list)
    unawaited_callees: dict[str, int] = field(default_factory=dict)
    unawaited_examples: list[Location] = field(default_factory=list)
    silent_by_file: dict[str, list[Location]] = field(default_factory=dict)
    reported_skips: int = 0  # `skips` entries in the tool's report (sync: kept legacy queries)
    failed_files: list[str] = field(default_factory=list)
    unparsable_output: list[str] = field(default_factory=list)
    tool_summary: dict[str, object] = field(default_factory=dict)
    tool_error: str = ""
    tool_seconds: float = 0.0
    tests_after: TestRun | None = None
    second_run_changes: list[str] = field(default_factory=list)  # files a rerun changes
    scripts_same: int = 0  # of the scripts that ran clean on the original
    scripts_differing: list[str] = field(default_factory=list)  # "path: how"

    @property
    def converted(self) -> int:
        return max(self.chains - self.remaining, 0)


@dataclass
class ProjectResult:
    project: Project
    targets: list[TargetResult] = field(default_factory=list)
    tests_before: TestRun | None = None
    scripts_before: dict[str, ScriptRun] = field(default_factory=dict)  # those that ran clean
    error: str = ""


# --- static analysis -------------------------------------------------------------------------


def legacy_chains(tree: ast.AST) -> list[ast.Attribute]:
    """The legacy Query chains of a module, each as the `query` attribute node it starts at.

    Counted, per occurrence of an attribute named `query`:

    * `X.query(...)`: the attribute is called, whatever the receiver (`session.query(User)`,
      `db.session.query(User.id)`, `self._session.query(M)`, `Session().query(M)`);
    * `M.query.<name>`: the receiver is a name or an attribute and the attribute is itself the
      receiver of a further attribute (Flask-SQLAlchemy's `User.query.filter_by(...)`,
      `cls.query.get(1)`, `db.Model.query.count()`).

    Not counted: a bare `M.query` (passed on, assigned or returned), `query` used as a plain
    name, `self.query(...)` in a class that defines its own `query` method (a method of the
    project, not a session's), and the rest of a chain: `q.filter(...)` on a variable
    holding a query is part of the chain that built `q`. So each chain counts once, where it
    starts.
    """
    parents = parent_map(tree)
    chains = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr == "query"):
            continue
        if _own_query_method(node, parents):
            continue
        parent = parents.get(node)
        called = isinstance(parent, ast.Call) and parent.func is node
        receiver = (
            isinstance(node.value, ast.Name | ast.Attribute)
            and isinstance(parent, ast.Attribute)
            and parent.value is node
        )
        if called or receiver:
            chains.append(node)
    return sorted(chains, key=lambda n: (n.lineno, n.col_offset))


def _own_query_method(node: ast.Attribute, parents: dict[ast.AST, ast.AST]) -> bool:
    """`self.query` inside a class whose body defines `def query`."""
    if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
        return False
    scope = parents.get(node)
    while scope is not None and not isinstance(scope, ast.ClassDef):
        scope = parents.get(scope)
    return scope is not None and any(
        isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "query"
        for item in scope.body)


@contextlib.contextmanager
def project_workdir(keep: Path | None, name: str, prefix: str) -> Iterator[Path]:
    """Where a project's copies go: `keep/name` (emptied first, left afterwards), else a
    temporary folder."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-{name}-") as work:
            yield Path(work)
        return
    work = (keep / name).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    yield work


def callee_name(call: ast.Call) -> str | None:
    """The called name: `f` for `f(...)`, `m` for `x.y.m(...)`."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def enclosing_statement(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.stmt | None:
    if isinstance(node, ast.stmt):
        return node
    return next((a for a in ancestors(node, parents) if isinstance(a, ast.stmt)), None)


def has_todo(stmt: ast.stmt | None, lines: list[str]) -> bool:
    """Whether `stmt` carries a TODO marker: on one of its lines (a compound statement: its
    header), or in the run of comment lines directly above it."""
    if stmt is None:
        return False
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
    body = getattr(stmt, "body", None)
    last = body[0].lineno - 1 if isinstance(body, list) and body else stmt.end_lineno or first
    if any(TODO_PREFIX in line for line in lines[first - 1 : max(last, first)]):
        return True
    number = first - 1
    while number >= 1 and lines[number - 1].lstrip().startswith("#"):
        if TODO_PREFIX in lines[number - 1]:
            return True
        number -= 1
    return False


def run_sync_targets(tree: ast.AST) -> tuple[set[str], set[ast.Lambda]]:
    """Names of the functions, and the lambdas, that a module hands to `run_sync(`
    (directly or through `functools.partial(fn, ...)`)."""
    names: set[str] = set()
    lambdas: set[ast.Lambda] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and callee_name(node) == "run_sync"):
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(arg, ast.Call) and callee_name(arg) == "partial" and arg.args:
                arg = arg.args[0]
            if isinstance(arg, ast.Lambda):
                lambdas.add(arg)
            elif isinstance(arg, ast.Name):
                names.add(arg.id)
            elif isinstance(arg, ast.Attribute):
                names.add(arg.attr)
    return names, lambdas


def in_run_sync(node: ast.AST, parents: dict[ast.AST, ast.AST], run_sync_names: set[str],
                run_sync_lambdas: set[ast.Lambda]) -> bool:
    """Whether `node` is inside a lambda or a function handed to `run_sync(`."""
    return any(
        (isinstance(a, ast.Lambda) and a in run_sync_lambdas)
        or (isinstance(a, FUNCTIONS) and a.name in run_sync_names)
        for a in ancestors(node, parents)
    )


def classify_chain(
    chain: ast.AST,
    parents: dict[ast.AST, ast.AST],
    lines: list[str],
    run_sync_names: set[str],
    run_sync_lambdas: set[ast.Lambda],
) -> str:
    """`run_sync`, `todo` or `silent` for a legacy chain left in the output (a query built on
    `session.sync_session` is run behind run_sync by the migration)."""
    if on_sync_session(chain) or in_run_sync(chain, parents, run_sync_names, run_sync_lambdas):
        return "run_sync"
    if has_todo(enclosing_statement(chain, parents), lines) or kept_sync(chain, parents, lines):
        return "todo"
    return "silent"


def on_sync_session(chain: ast.AST) -> bool:
    """`session.sync_session.query(...)`: a legacy Query on an AsyncSession's sync one."""
    return isinstance(chain, ast.Attribute) and isinstance(chain.value, ast.Attribute) and (
        chain.value.attr == "sync_session")


def kept_sync(node: ast.AST, parents: dict[ast.AST, ast.AST], lines: list[str]) -> bool:
    """`node` is in a function the tool keeps synchronous, with the SQA303 TODO above its
    `def` (its callers run it through run_sync, also as `run_sync(lambda s: f(s, ...))`)."""
    for function in ancestors(node, parents):
        if isinstance(function, FUNCTIONS):
            start = min([function.lineno, *(d.lineno for d in function.decorator_list)])
            if start >= 2 and "TODO(sqla-asyncify SQA303)" in lines[start - 2]:
                return True
    return False


def on_async_session(chain: ast.Attribute, parents: dict[ast.AST, ast.AST],
                     sessions: AsyncSessions, module: str) -> bool:
    """The legacy chain runs on an AsyncSession: it sits in an `async def`, starts at a
    parameter annotated `AsyncSession` (neither in a lambda: run_sync bodies are counted
    apart), or starts at a session expression that the migrated project provably uses as an
    AsyncSession (`async_sessions.py`), in a sync function too: `self.session.query(...)` in
    a method of a class whose other methods await `self.session.execute(...)`."""
    if on_sync_session(chain):
        return False
    if sessions.is_async(chain.value, module):
        return True
    node: ast.AST | None = chain
    while node is not None and not isinstance(node, (*FUNCTIONS, ast.Lambda)):
        node = parents.get(node)
    if node is None or isinstance(node, ast.Lambda):
        return False
    if isinstance(node, ast.AsyncFunctionDef):
        return True
    root = chain.value
    while isinstance(root, (ast.Attribute, ast.Call)):
        root = root.func if isinstance(root, ast.Call) else root.value
    arguments = node.args
    return isinstance(root, ast.Name) and any(
        a.arg == root.id and a.annotation is not None and "AsyncSession" in ast.unparse(
            a.annotation) for a in [*arguments.posonlyargs, *arguments.args,
                                    *arguments.kwonlyargs])


def functions(tree: ast.AST) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method with its qualified name (`Class.method`, `outer.inner`)."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (*FUNCTIONS, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if isinstance(child, FUNCTIONS):
                    yield name, child
                yield from walk(child, f"{name}.")
            else:
                yield from walk(child, prefix)

    for name, node in walk(tree, ""):
        assert isinstance(node, FUNCTIONS)
        yield name, node


def made_async(before: ast.AST, after: ast.AST) -> set[str]:
    """Qualified names that are a plain `def` in `before` and an `async def` in `after`."""
    sync = {name for name, node in functions(before) if isinstance(node, ast.FunctionDef)}
    return {
        name
        for name, node in functions(after)
        if isinstance(node, ast.AsyncFunctionDef) and name in sync
    }


def is_handled(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether a call producing an awaitable is consumed properly where it stands."""
    parent = parents.get(call)
    if isinstance(parent, ast.Await):
        return True
    if isinstance(parent, ast.keyword):
        parent = parents.get(parent)
        return isinstance(parent, ast.Call) and callee_name(parent) in HANDLERS
    if isinstance(parent, ast.Call) and call in parent.args:
        return callee_name(parent) in HANDLERS
    if isinstance(parent, ast.withitem):
        return isinstance(parents.get(parent), ast.AsyncWith)
    if isinstance(parent, ast.AsyncFor):
        return parent.iter is call
    if isinstance(parent, ast.comprehension):
        return bool(parent.is_async) and parent.iter is call
    return False


def outside_names(tree: ast.AST, project_names: set[str]) -> set[str]:
    """Local names a module imports from outside the project (`os`, `json`, `httpx`):
    `os.environ.get(...)` cannot reach a project function whatever its name."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((a.asname or a.name).split(".")[0] for a in node.names
                         if a.name.split(".")[0] not in project_names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module.split(".")[0] not in project_names):
            found.update(a.asname or a.name for a in node.names)
    return found


def receiver_root(call: ast.Call) -> str | None:
    node = call.func.value if isinstance(call.func, ast.Attribute) else None
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


@dataclass
class ModuleFacts:
    """What the un-awaited check knows of one migrated module."""

    name: str  # dotted
    outside: set[str]  # local names imported from outside the project
    imports: dict[str, str]  # local name -> dotted name
    instances: dict[str, str]  # module-level instance -> its class name
    defined: set[str]  # names of the functions it defines (nested ones too)


def unawaited_calls(
    tree: ast.AST, lines: list[str], async_names: dict[str, bool], facts: ModuleFacts,
    async_by_module: dict[str, set[str]], instances: dict[str, dict[str, str]],
    fixtures: dict[str, bool], run_sync_names: set[str],
) -> list[tuple[int, str]]:
    """Calls that may reach a function the tool made async and are not awaited, not handed
    to `run_sync`/`asyncio.run`/`create_task`/`gather`/`Depends` and the like, not used by
    `async with`/`async for`, not a decorator (`@router.get(...)`), not inside code handed to
    `run_sync`, and carry no TODO marker on their statement.

    A callee the module's syntax resolves (`f()` defined or imported from a project module,
    `mod.f()`) counts exactly. Otherwise the last name is matched against `async_names`
    (name -> "some method of that name became async"; `obj.m()` on a variable can only reach
    a method), skipping receivers that are provably not project objects (`receivers.py`)."""
    parents = parent_map(tree)
    decorators = {
        id(d) for node in ast.walk(tree) if isinstance(node, FUNCTIONS) for d in node.decorator_list
    }
    run_sync_lambdas = run_sync_targets(tree)[1]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in decorators:
            continue
        name = callee_name(node)
        if name not in async_names or is_handled(node, parents):
            continue
        if in_run_sync(node, parents, run_sync_names, run_sync_lambdas):
            continue  # sync code run through run_sync
        exact = resolved_in_module(node, facts.imports, facts.name, facts.defined,
                                   async_by_module, instances)
        if exact is False or (exact is None and not may_reach_async(node, name, async_names,
                                                                    facts, parents, fixtures)):
            continue
        if not has_todo(enclosing_statement(node, parents), lines):
            found.append((node.lineno, name))
    return sorted(found)


def may_reach_async(call: ast.Call, name: str, async_names: dict[str, bool], facts: ModuleFacts,
                    parents: dict[ast.AST, ast.AST], fixtures: dict[str, bool]) -> bool:
    """The name-based judgement, for a callee the module's syntax does not resolve."""
    if receiver_root(call) in facts.outside or isinstance(call.func, ast.Name) and (
            call.func.id in facts.outside):  # `delete(Model)` after `from sqlalchemy import delete`
        return False
    on_variable = isinstance(call.func, ast.Attribute) and receiver_root(call) not in facts.imports
    if on_variable and not async_names[name]:
        return False  # `product.allocate()` cannot be the function `allocate()`
    return not receiver_is_outside(call, parents, facts.outside, fixtures)


# --- running the tool and the suites ---------------------------------------------------------


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if not SKIPPED_DIRS.intersection(path.relative_to(root).parts):
            yield path


def parse(path: Path) -> tuple[ast.Module, list[str]] | None:
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        return ast.parse(text, filename=str(path)), text.splitlines()
    except (SyntaxError, ValueError):
        return None


def copy_tree(source: Path, dest: Path) -> None:
    shutil.copytree(
        source,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc", "node_modules"),
    )


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_tool(repo: Path, root: Path, subpath: str, target: str, timeout: float) -> tuple[dict, str]:
    """Migrate `root/subpath` in place; the JSON report, or an error text."""
    command = [sys.executable, "-m", "cli", "migrate", subpath or "."]
    command += ["--write", "--target", target, "--format", "json", "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {}, f"tool timed out after {timeout:.0f} s"
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {}, f"exit {done.returncode}, no JSON report:\n{tail(done.stderr)}"
    if done.returncode not in (0, 1, 2) or "Traceback" in done.stderr:
        return report, f"exit {done.returncode}:\n{tail(done.stderr)}"
    return report, ""


def second_run_changes(args: argparse.Namespace, project: Project, migrated: Path,
                       target: str, work: Path) -> list[str]:
    """Files a second run over the migrated copy would change (a migration is idempotent:
    none), on a throwaway copy."""
    again = work / f"again-{target}"
    copy_tree(migrated, again)
    report, error = run_tool(args.repo, again, project.subpath, target, args.timeout)
    shutil.rmtree(again, ignore_errors=True)
    if error:
        return [f"(second run: {error.splitlines()[0]})"]
    return [entry["path"] for entry in report.get("files", []) if entry.get("status") == "changed"]


def measure(before: Path, after: Path, subpath: str, result: TargetResult) -> None:
    """Fill `result` with the static comparison of the original and the migrated copy."""
    base, migrated = before / subpath, after / subpath
    modules: dict[str, tuple[ast.Module | None, tuple[ast.Module, list[str]] | None]] = {}
    for path in python_files(base):
        rel = path.relative_to(base).as_posix()
        original = parse(path)
        result.chains += len(legacy_chains(original[0])) if original else 0
        output = parse(migrated / rel) if (migrated / rel).exists() else None
        if original and output is None and (migrated / rel).exists():
            result.unparsable_output.append(rel)
        modules[rel] = (original[0] if original else None, output)

    # every folder and module name of the tree: what an absolute import of the project names
    project_names = {part.removesuffix(".py") for rel in modules for part in Path(rel).parts}
    run_sync_names: set[str] = set()
    async_names: dict[str, bool] = {}
    async_by_module: dict[str, set[str]] = {}
    facts: dict[str, ModuleFacts] = {}
    fixtures: dict[str, bool] = {}
    for rel, (original, output) in modules.items():
        if output is None:
            continue
        tree = output[0]
        name = module_name((Path(subpath) / rel).as_posix())  # the folder may be a package
        facts[rel] = ModuleFacts(name, outside_names(tree, project_names),
                                 project_imports(tree, name, rel.endswith("__init__.py")),
                                 module_instances(tree),
                                 {n.name for n in ast.walk(tree) if isinstance(n, FUNCTIONS)})
        for fixture, outside in outside_fixtures(tree, facts[rel].outside).items():
            fixtures[fixture] = fixtures.get(fixture, True) and outside
        run_sync_names |= run_sync_targets(tree)[0]
        async_by_module[name] = set()
        if original is not None and result.target == "async":
            for qualified in made_async(original, tree):
                last = qualified.rsplit(".", 1)[-1]
                async_names[last] = async_names.get(last, False) or "." in qualified
                async_by_module[name].add(qualified)

    instances = {f.name: f.instances for f in facts.values()}
    sessions = AsyncSessions({facts[rel].name: (output[0], facts[rel].imports)
                              for rel, (_, output) in modules.items() if output is not None})
    callees: Counter[str] = Counter()
    for rel, (_, output) in modules.items():
        if output is None:
            continue
        tree, lines = output
        parents = parent_map(tree)
        lambdas = run_sync_targets(tree)[1]
        shown = (Path(subpath) / rel).as_posix()
        for chain in legacy_chains(tree):
            result.remaining += 1
            kind = classify_chain(chain, parents, lines, run_sync_names, lambdas)
            setattr(result, kind, getattr(result, kind) + 1)
            if kind != "run_sync" and result.target == "async" and on_async_session(
                    chain, parents, sessions, facts[rel].name):
                result.legacy_on_async += 1
                line = lines[chain.lineno - 1].strip()
                result.legacy_on_async_at.append(Location(shown, chain.lineno, line))
            if kind == "silent":
                line = lines[chain.lineno - 1].strip()
                result.silent_by_file.setdefault(shown, []).append(
                    Location(shown, chain.lineno, line)
                )
        for line, name in unawaited_calls(tree, lines, async_names, facts[rel], async_by_module,
                                          instances, fixtures, run_sync_names):
            callees[name] += 1
            if len(result.unawaited_examples) < EXAMPLES:
                location = Location(shown, line, lines[line - 1].strip())
                result.unawaited_examples.append(location)
    result.unawaited = sum(callees.values())
    result.unawaited_callees = dict(callees.most_common(EXAMPLES))


def venv_python(project: Project, src: Path, need_async: bool) -> Path:
    """Create or reuse `/work/corpus-venvs/<name>` with the suite's requirements."""
    venv = VENVS / project.name
    python = venv / "bin" / "python"
    requires = [*project.test_requires, *(ASYNC_TEST_REQUIRES if need_async else ())]
    if project.install_project:
        requires.append(str(src / project.name / project.test_cwd))
    stamp = venv / ".corpus-requirements"
    wanted = hashlib.sha256("\n".join(requires).encode()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log = venv / "pip.log"
    with log.open("w") as out:
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *requires],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        raise RuntimeError(f"pip install failed for {project.name}; see {log}")
    stamp.write_text(wanted)
    return python


# What a legacy chain left on an AsyncSession raises when it runs: the run-time side of
# `legacy_on_async`.
ASYNC_QUERY_ERROR = "'AsyncSession' object has no attribute 'query'"
PROBLEM_LINE = re.compile(r"(FAILED|ERROR) \S")
SUMMARY_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)\b")


def parse_pytest(output: str) -> TestRun:
    run = TestRun()
    lines = output.splitlines()
    for line in reversed(lines):
        counts = SUMMARY_COUNT.findall(line)
        if counts and (" in " in line or line.startswith("=")):
            run.summary = line.strip("= ").strip()
            for number, word in counts:
                if word == "passed":
                    run.passed = int(number)
                elif word == "failed":
                    run.failed = int(number)
                elif word.startswith("error"):
                    run.errors = int(number)
                elif word == "skipped":
                    run.skipped = int(number)
            break
    # pytest's short summary lines ("FAILED path::test - ..."), not captured log records
    # ("ERROR    logger:file.py:12 message"), which also start with the level name
    run.problems = [line for line in lines if PROBLEM_LINE.match(line)]
    run.async_query_lines = sum(ASYNC_QUERY_ERROR in line for line in lines)
    return run


def project_env(project: Project, python: Path, root: Path) -> dict[str, str]:
    """The environment the project's suite and scripts run in: its venv, the copy at `root`
    first on the path."""
    entries = project.test_pythonpath or (project.test_cwd,)
    path = os.pathsep.join(str((root / entry).resolve()) for entry in entries)
    env = {
        **os.environ,
        **project.test_env,
        "PYTHONPATH": path,
        "VIRTUAL_ENV": str(python.parents[1]),
        "COLUMNS": "200",  # pytest cuts its FAILED/ERROR lines to the terminal width
    }
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONHOME", None)
    return env


def run_suite(project: Project, python: Path, root: Path, timeout: float) -> TestRun:
    """The project's `test_command` in the copy at `root`, with the copy first on the path."""
    env = project_env(project, python, root)
    command = [str(python) if part == "python" else part for part in project.test_command]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=root / project.test_cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return TestRun(seconds=timeout, problems=[f"timed out after {timeout:.0f} s"])
    run = parse_pytest(done.stdout)
    run.returncode = done.returncode
    run.seconds = round(time.monotonic() - started, 1)
    if not run.summary:
        run.problems.append(f"no pytest summary (exit {done.returncode}):\n{tail(done.stdout)}")
    return run


# What differs between two runs of a program without meaning: the time, object addresses.
VOLATILE = ((re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}([.,]\d+)?"), "<datetime>"),
            (re.compile(r"datetime\.datetime\([\d, ]+\)"), "<datetime>"),
            (re.compile(r"0x[0-9a-fA-F]+"), "0x…"))
SCRIPT_SITE = HERE / "script_site"  # its sitecustomize sends SQLAlchemy's echo to stderr


@dataclass
class ScriptRun:
    """One run of a script of the project: its exit status and what it printed."""

    returncode: int | None
    stdout: str  # with VOLATILE parts masked
    stderr: str = ""


def script_paths(project: Project, root: Path) -> list[str]:
    return sorted({p.relative_to(root).as_posix() for pattern in project.scripts
                   for p in root.glob(pattern) if p.is_file()})


def run_script(project: Project, python: Path, root: Path, script: str,
               timeout: float) -> ScriptRun:
    """`python <script>` in the copy at `root` (from the root)."""
    env = project_env(project, python, root)
    env["PYTHONPATH"] = f"{SCRIPT_SITE}{os.pathsep}{env['PYTHONPATH']}"
    try:
        done = subprocess.run([str(python), script], cwd=root, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return ScriptRun(None, "", f"timed out after {timeout:.0f} s")
    stdout = done.stdout
    for pattern, mask in VOLATILE:
        stdout = pattern.sub(mask, stdout)
    return ScriptRun(done.returncode, stdout, done.stderr)


def compare_scripts(project: Project, python: Path, root: Path, before: dict[str, ScriptRun],
                    outcome: TargetResult, timeout: float) -> None:
    """Run on the migration each script that ran clean on the original: same output?"""
    for script, original in before.items():
        run = run_script(project, python, root, script, timeout)
        if run.returncode == 0 and run.stdout == original.stdout:
            outcome.scripts_same += 1
        elif run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
            outcome.scripts_differing.append(f"{script}: exit {run.returncode}: {last[:160]}")
        else:
            first = next((f"{a!r} → {b!r}" for a, b in zip_longest(
                original.stdout.splitlines(), run.stdout.splitlines(), fillvalue="")
                if a != b), "")
            outcome.scripts_differing.append(f"{script}: prints otherwise: {first[:160]}")


# --- one project -----------------------------------------------------------------------------


def run_project(project: Project, args: argparse.Namespace, work: Path) -> ProjectResult:
    result = ProjectResult(project)
    source = args.src / project.name
    targets = ["sync", "async"] if args.target == "both" else [args.target]
    before = work / "original"
    copy_tree(source, before)
    python = None
    if args.tests and project.test_command:
        try:
            python = venv_python(project, args.src, "async" in targets)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            result.error = str(exc)
        if python is not None:
            log(f"  tests on the original ({project.name})")
            result.tests_before = run_suite(project, python, before, args.timeout)
            runs = {script: run_script(project, python, before, script, args.timeout)
                    for script in script_paths(project, before)}
            result.scripts_before = {s: r for s, r in runs.items() if r.returncode == 0}
    for target in targets:
        outcome = TargetResult(target)
        after = work / f"migrated-{target}"
        copy_tree(source, after)
        log(f"  migrating {project.name} --target {target}")
        started = time.monotonic()
        report, outcome.tool_error = run_tool(
            args.repo, after, project.subpath, target, args.timeout
        )
        outcome.tool_seconds = round(time.monotonic() - started, 1)
        outcome.tool_summary = report.get("summary", {})
        outcome.reported_skips = sum(len(entry["skips"]) for entry in report.get("files", []))
        outcome.failed_files = [
            f"{entry['path']}: {entry.get('error')}"
            for entry in report.get("files", [])
            if entry.get("error") or entry.get("status") == "failed"
        ]
        (work / f"report-{target}.json").write_text(json.dumps(report, indent=1))
        measure(before, after, project.subpath, outcome)
        outcome.second_run_changes = second_run_changes(args, project, after, target, work)
        if python is not None:
            log(f"  tests on the {target} migration ({project.name})")
            outcome.tests_after = run_suite(project, python, after, args.timeout)
            compare_scripts(project, python, after, result.scripts_before, outcome,
                            args.timeout)
        result.targets.append(outcome)
    return result


# --- output ----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def target_line(name: str, outcome: TargetResult, before: TestRun | None) -> str:
    line = (
        f"{name} [{outcome.target}]: chains {outcome.chains}, "
        f"converted {outcome.converted} ({percent(outcome.converted, outcome.chains)}), "
        f"run_sync {outcome.run_sync}, todo {outcome.todo}, "
        f"silent {outcome.silent} ({percent(outcome.silent, outcome.chains)}); "
        f"reported skips {outcome.reported_skips}; "
        f"second run changes {len(outcome.second_run_changes)}"
    )
    if outcome.target == "async":
        line += (f"; unawaited {outcome.unawaited}; legacy on async sessions "
                 f"{outcome.legacy_on_async}")
        if outcome.tests_after is not None:
            line += f" (suite lines saying so: {outcome.tests_after.async_query_lines})"
    if before is not None or outcome.tests_after is not None:
        after = outcome.tests_after.short() if outcome.tests_after else "n/a"
        line += f"; tests before {before.short() if before else 'n/a'}, after {after}"
    ran = outcome.scripts_same + len(outcome.scripts_differing)
    if ran:
        line += f"; scripts printing the same {outcome.scripts_same}/{ran}"
    return line


def print_results(results: list[ProjectResult], details: bool) -> None:
    totals: dict[str, TargetResult] = {}
    for result in results:
        print(f"== {result.project.name} ({result.project.kind}, {result.project.repo})")
        if result.error:
            print(f"   error: {result.error}")
        for outcome in result.targets:
            print("   " + target_line(result.project.name, outcome, result.tests_before))
            total = totals.setdefault(outcome.target, TargetResult(outcome.target))
            for key in (
                "chains",
                "remaining",
                "run_sync",
                "todo",
                "silent",
                "unawaited",
                "legacy_on_async",
                "reported_skips",
            ):
                setattr(total, key, getattr(total, key) + getattr(outcome, key))
            total.second_run_changes += outcome.second_run_changes
            for path in outcome.second_run_changes:
                print(f"   a second run changes: {path}")
            if outcome.tool_error:
                print(f"   tool error: {outcome.tool_error}")
            for failed in outcome.failed_files:
                print(f"   failed file: {failed}")
            for path in outcome.unparsable_output:
                print(f"   output does not parse: {path}")
            for location in outcome.legacy_on_async_at[:EXAMPLES]:
                print(f"   legacy on an async session: {location}")
            if len(outcome.legacy_on_async_at) > EXAMPLES:
                print(f"     … {len(outcome.legacy_on_async_at) - EXAMPLES} more (--json)")
            if outcome.unawaited:
                names = ", ".join(f"{k} ×{v}" for k, v in outcome.unawaited_callees.items())
                print(f"   unawaited by callee: {names}")
                for example in outcome.unawaited_examples:
                    print(f"     {example}")
            problems = (outcome.tests_after.problems if outcome.tests_after else [])[:EXAMPLES]
            for problem in problems:
                print(f"   after: {problem}")
            for script in outcome.scripts_differing:
                print(f"   script: {script}")
        if result.tests_before:
            for problem in result.tests_before.problems[:EXAMPLES]:
                print(f"   before: {problem}")
    print("== totals")
    for outcome in totals.values():
        print("   " + target_line("all", outcome, None))
    print(
        "   (unawaited: exact where a module's imports resolve the callee; otherwise matched by "
        "last name, skipping receivers provably not of the project, so a same-named sync "
        "method on an unresolved receiver still counts)"
    )
    if details:
        print_details(results)


def print_details(results: list[ProjectResult]) -> None:
    for target in ("sync", "async"):
        files = [
            (result.project.name, path, locations)
            for result in results
            for outcome in result.targets
            if outcome.target == target
            for path, locations in outcome.silent_by_file.items()
        ]
        if not files:
            continue
        print(f"== top {DETAIL_FILES} files by silent chains [{target}]")
        files.sort(key=lambda item: -len(item[2]))
        for name, path, locations in files[:DETAIL_FILES]:
            print(f"   {name}/{path}: {len(locations)} silent")
            for location in locations:
                print(f"     {location.line}: {location.text}")


def as_json(results: list[ProjectResult], repo: Path) -> str:
    def encode(result: ProjectResult) -> dict[str, object]:
        data = asdict(result)
        for outcome, encoded in zip(result.targets, data["targets"], strict=True):
            encoded["converted"] = outcome.converted
        return data

    payload = {"date": date.today().isoformat(), "repo": str(repo), "projects": []}
    payload["projects"] = [encode(result) for result in results]
    return json.dumps(payload, indent=1, default=str)


# --- main ------------------------------------------------------------------------------------


def load_manifest(path: Path) -> list[Project]:
    with path.open("rb") as handle:
        return [Project.from_table(table) for table in tomllib.load(handle)["project"]]


def parse_args(argv: Iterable[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="append", default=[], help="only this one (repeat)")
    parser.add_argument("--target", choices=["sync", "async", "both"], default="both")
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="fetched checkouts")
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO, help="sqla-asyncify checkout")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument(
        "--fetch-hint", action="store_true", help="missing source: say how to get it"
    )
    parser.add_argument("--tests", action="store_true", help="run the suites before and after")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per tool run / suite")
    parser.add_argument("--details", action="store_true", help="top files by silent chains")
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    parser.add_argument("--keep", type=Path, help="keep the copies and reports under this dir")
    args = parser.parse_args(argv)
    args.repo = args.repo.resolve()
    args.src = args.src.resolve()
    return args


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    projects = load_manifest(args.manifest)
    unknown = set(args.project) - {p.name for p in projects}
    if unknown:
        log(f"unknown project(s): {', '.join(sorted(unknown))}")
        return 2
    if args.project:
        projects = [p for p in projects if p.name in args.project]
    results = []
    missing = False
    for project in projects:
        if not (args.src / project.name).is_dir():
            missing = True
            where = args.src / project.name
            if args.fetch_hint:
                log(
                    f"{project.name}: no source at {where}; fetch github:{project.repo}, then "
                    f"`mkdir -p {where} && git --git-dir=<fetched git dir> archive "
                    f"{project.commit} | tar -x -C {where}`"
                )
            else:
                log(f"{project.name}: no source at {where} (--fetch-hint says how to get it)")
            continue
        log(f"{project.name}:")
        with project_workdir(args.keep, project.name, "corpus") as work:
            results.append(run_project(project, args, work))
    if args.json:
        print(as_json(results, args.repo))
    else:
        print_results(results, args.details)
    return 2 if missing and not args.fetch_hint else 0


if __name__ == "__main__":
    sys.exit(main())
