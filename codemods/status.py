"""How far a project's migration is, per module: a dry run over the whole project, summarised.

Nothing is written. Each module gets a state and the counts of what is left:

- `migrated`: the tool has nothing left to do in it and no `# TODO(sqla-asyncify …)` marker
  remains (`run_sync` bridges may remain: they are counted, see below);
- `blocked`: nothing left for the tool, but TODO markers remain (listed as what blocks it);
- `to do`: the tool would still change it;
- `failed`: it could not be processed (syntax error, undecodable bytes, …), with the error;
- `no database code`: unchanged, no markers, no findings, and no name in its code (imports,
  identifiers, attributes, parameters; not docstrings or comments) containing `sqlalchemy`,
  `sqlmodel`, `session` or `engine`, in any case. Cheap, and approximate: a module whose only
  database involvement is calling another module's functions (`repo.get_user(1)`) is "to do"
  while those calls still need `await`, and "no database code" once they have it.

One exception to "would not change": a `run_sync` wrap left by an incremental run
(`await session.run_sync(fn, …)` around a function of a package not migrated yet) is removed
by the tool (SQA304) once that function is migrated. A module whose only pending changes are
such unwraps is done as far as its own code goes, so it counts as migrated (its bridges show
in `run_sync_wraps_left`). Otherwise a caller package migrated first would read "to do"
until every package it calls is migrated too.
"""

from __future__ import annotations

import ast
import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .engine import iter_migrate
from .results import FileResult, Finding, Kind, RuleStatistics, Tag, rule_statistics
from .sources import Skipped, SourceFile, discover, find_project_root, read_sources
from .todo import TODO_PREFIX, Marker, find_markers

# Findings counted as "sessions and engines still sync".
SESSION_CODES = frozenset({"SQA001", "SQA002", "SQA003", "SQA010", "SQA200", "SQA201"})
# Changes that only remove a bridge to code migrated elsewhere: not this module's own work.
FOLLOW_UP_CODES = frozenset({"SQA304"})
# `x.run_sync(<dotted name ending in one of these>)` is the async DDL idiom, not legacy code.
_DDL_CALLABLES = frozenset({"create_all", "drop_all", "reflect"})
# A name containing one of these (lower-cased) means the module may hold database code.
_DB_WORDS = ("sqlalchemy", "sqlmodel", "session", "engine")


class ModuleState(str, enum.Enum):
    MIGRATED = "migrated"
    BLOCKED = "blocked"
    TO_DO = "to do"
    FAILED = "failed"
    NO_DATABASE_CODE = "no database code"


@dataclass
class ModuleStatus:
    path: str
    state: ModuleState
    error: str | None = None
    error_line: int | None = None
    # What the dry run would still do (from its findings):
    legacy_queries: int = 0  # SQA100 query sites: rewritten, or wrapped in run_sync
    sync_sessions: int = 0  # engine/session/await/async-with changes (SESSION_CODES)
    functions_to_async: int = 0  # SQA300 `def f() → async def`
    todos_to_add: int = 0  # TODO findings: markers the migration would add
    unwraps_pending: int = 0  # SQA304: bridges removed because the callee is async now
    # What is in the file as it is now:
    run_sync_wraps_left: int = 0  # `.run_sync(...)` calls other than DDL (create_all, …)
    todo_markers: int = 0
    blockers: list[Marker] = field(default_factory=list)

    @property
    def has_database_code(self) -> bool:
        return self.state is not ModuleState.NO_DATABASE_CODE

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "state": self.state.value,
            "error": None if self.error is None else {"line": self.error_line,
                                                       "message": self.error},
            "legacy_queries": self.legacy_queries,
            "sync_sessions": self.sync_sessions,
            "functions_to_async": self.functions_to_async,
            "todos_to_add": self.todos_to_add,
            "unwraps_pending": self.unwraps_pending,
            "run_sync_wraps_left": self.run_sync_wraps_left,
            "todo_markers": self.todo_markers,
            "blockers": [b.to_dict() for b in self.blockers],
        }


_COUNTED = ("legacy_queries", "sync_sessions", "functions_to_async", "todos_to_add",
            "unwraps_pending", "run_sync_wraps_left", "todo_markers")


@dataclass
class ProjectStatus:
    root: str
    modules: list[ModuleStatus]
    skipped: list[Skipped] = field(default_factory=list)  # files left out (named pipes)
    # per rule, what the migration would still do (`status --statistics`)
    statistics: list[RuleStatistics] = field(default_factory=list)

    @property
    def states(self) -> Counter[ModuleState]:
        return Counter(m.state for m in self.modules)

    @property
    def with_database_code(self) -> int:
        return sum(1 for m in self.modules if m.has_database_code)

    @property
    def migrated(self) -> int:
        return self.states[ModuleState.MIGRATED]

    @property
    def progress(self) -> float | None:
        """Migrated modules / modules with database code (failed ones included: unknown is
        not done); None when no module has database code."""
        total = self.with_database_code
        return self.migrated / total if total else None

    def total(self, name: str) -> int:
        return sum(getattr(m, name) for m in self.modules)

    def to_dict(self) -> dict[str, object]:
        states = self.states
        summary: dict[str, object] = {
            "modules": len(self.modules),
            "with_database_code": self.with_database_code,
            **{state.value.replace(" ", "_"): states[state] for state in ModuleState},
            "progress": None if self.progress is None else round(self.progress, 4),
            **{name: self.total(name) for name in _COUNTED},
        }
        return {"root": self.root, "summary": summary,
                "modules": [m.to_dict() for m in self.modules],
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped]}


def count_run_sync_wraps(text: str) -> int:
    """`.run_sync(...)` calls in `text`, except DDL (`conn.run_sync(Base.metadata.create_all)`,
    `drop_all`, `reflect`), the async idiom SQA010 writes. Every other one keeps legacy,
    synchronous code running: a bridge still to remove."""
    if "run_sync" not in text:
        return 0
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return text.count(".run_sync(")
    count = 0
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "run_sync"):
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Attribute) and first.attr in _DDL_CALLABLES:
            continue
        count += 1
    return count


def mentions_database(text: str) -> bool:
    """Whether a name in the code (not a docstring or comment) looks like database code."""
    lowered = text.lower()
    if not any(word in lowered for word in _DB_WORDS):
        return False
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names: tuple[str | None, ...] = (node.id,)
        elif isinstance(node, ast.Attribute):
            names = (node.attr,)
        elif isinstance(node, ast.arg):
            names = (node.arg,)
        elif isinstance(node, ast.alias):
            names = (node.name, node.asname)
        elif isinstance(node, ast.ImportFrom):
            names = (node.module,)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = (node.name,)
        else:
            continue
        if any(name and word in name.lower() for name in names for word in _DB_WORDS):
            return True
    return False


def _is_legacy_query(finding: Finding) -> bool:
    # One site per executed query: `q = session.query(X)` … `q.all()` reports the variable
    # and the terminal; the terminal is the site.
    return (finding.code == "SQA100" and finding.kind in (Kind.CHANGE, Kind.RUN_SYNC)
            and finding.tag is not Tag.QUERY_VARIABLE)


def module_status(source: SourceFile, result: FileResult) -> ModuleStatus:
    """One module's state from its text and its dry-run result."""
    status = ModuleStatus(path=result.path, state=ModuleState.TO_DO)
    if result.error is not None:
        status.state = ModuleState.FAILED
        status.error, status.error_line = result.error, result.error_line
        return status
    text = source.text
    findings = result.findings
    changes = [f for f in findings if f.kind is Kind.CHANGE]
    status.legacy_queries = sum(1 for f in findings if _is_legacy_query(f))
    status.sync_sessions = sum(1 for f in changes if f.code in SESSION_CODES)
    status.functions_to_async = sum(1 for f in changes
                                    if f.tag is Tag.ASYNC_DEF)
    status.todos_to_add = result.count(Kind.TODO)
    status.unwraps_pending = sum(1 for f in changes if f.code in FOLLOW_UP_CODES)
    status.run_sync_wraps_left = count_run_sync_wraps(text)
    status.blockers = find_markers(text)
    status.todo_markers = text.count(TODO_PREFIX)

    own_work = result.changed and not (
        changes and all(f.code in FOLLOW_UP_CODES for f in changes)
        and not any(f.kind in (Kind.TODO, Kind.RUN_SYNC) for f in findings))
    if own_work:
        status.state = ModuleState.TO_DO
    elif status.todo_markers:
        status.state = ModuleState.BLOCKED
    elif result.changed or findings or mentions_database(text):
        status.state = ModuleState.MIGRATED
    else:
        status.state = ModuleState.NO_DATABASE_CODE
    return status


def project_status(root: Path, excludes: Iterable[str] = (), config: Config | None = None
                   ) -> ProjectStatus:
    """Dry-run the migration of every Python file under `root` (one project, nothing
    written) and summarise it per module, sorted by path."""
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such file or directory")
    sources, skipped = read_sources(discover([root], excludes, find_project_root([root])))
    by_path = {s.path: s for s in sources}
    results = [r for r in iter_migrate(sources, config) if r.path in by_path]
    modules = sorted((module_status(by_path[r.path], r) for r in results),
                     key=lambda m: m.path)
    return ProjectStatus(root=str(root), modules=modules,
                         skipped=[s for s in skipped if not s.verbose],
                         statistics=rule_statistics(results))
