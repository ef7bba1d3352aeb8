"""SQA500: a relationship or deferred column read on objects whose query does not load it."""

from __future__ import annotations

import ast
import re

from ..config import Config
from ..engine import iter_migrate
from ..results import Finding, Kind
from ..rules.base import USERS_AND_ADDRESSES
from .base import LintCase, LintFinding, LintRule
from .markers import marked_statements
from .runner import LintRun

# SQA400's change message: "eager-load User.addresses (read after the query): .options(...)"
_SQA400 = re.compile(r"eager-load (?P<read>.+) \(read after the query\): (?P<fix>\.options\(.*\))$")


class UnloadedReads(LintRule):
    """Relationships and deferred columns read after an async query must be loaded by it.

    Under asyncio an attribute the query did not load is loaded on first read, which needs
    I/O the event loop cannot do there: `MissingGreenlet` (a many-to-one whose object happens
    to be in the identity map is the exception that hides it in tests). The check is SQA400's
    analysis of the migration, run on async code: reads are followed through loops, helpers
    the objects are passed to, callers of functions returning them, properties, `__repr__`
    and the response schemas of FastAPI routes (`response_model=`). The finding names the
    option to add; `--fix` adds it (`selectinload` for collections, `joinedload` for
    many-to-one, `undefer` for deferred columns, options on `session.get` with
    `populate_existing=True`). Also reported: `lazy="dynamic"` reads (`--fix` runs them in
    `run_sync`), collections of new objects first read after a commit (SQA407), and reads
    the migration marked with an SQA405 TODO that is still there (objects whose query it
    cannot see): they stay findings until the loading is fixed and the marker removed (its
    SQA401 markers on model methods do not: those reads are checked where the objects are
    queried).
    """

    code = "SQA500"
    summary = ("relationship/deferred column read after an async query that does not load it "
               "→ add selectinload/joinedload/undefer (--fix)")
    fixable = True
    cases = (
        LintCase("""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def address_counts(session: AsyncSession) -> list[int]:
                users = (await session.scalars(select(User))).all()
                return [len(u.addresses) for u in users]
        """, """
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import selectinload

            from models import User


            async def address_counts(session: AsyncSession) -> list[int]:
                users = (await session.scalars(select(User).options(selectinload(User.addresses)))).all()
                return [len(u.addresses) for u in users]
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
        LintCase("""
            from fastapi import FastAPI
            from pydantic import BaseModel
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User

            app = FastAPI()


            class UserOut(BaseModel):
                name: str
                addresses: list[dict]


            @app.get("/users", response_model=list[UserOut])
            async def users(session: AsyncSession):
                return (await session.scalars(select(User))).all()
        """, """
            from fastapi import FastAPI
            from pydantic import BaseModel
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import selectinload

            from models import User

            app = FastAPI()


            class UserOut(BaseModel):
                name: str
                addresses: list[dict]


            @app.get("/users", response_model=list[UserOut])
            async def users(session: AsyncSession):
                return (await session.scalars(select(User).options(selectinload(User.addresses)))).all()
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
    )

    def check_project(self, run: LintRun) -> list[LintFinding]:
        # SQA407: collections of new objects, first read after flush()/commit() (a TODO)
        config = Config(select=frozenset({"SQA400", "SQA407"}), jobs=run.config.jobs,
                        cache_dir=run.config.cache_dir)
        found: list[LintFinding] = [f for s in run.sources if s.error is None
                                    for f in _marked_reads(s.path, s.text, self.code)]
        linted = {s.path for s in run.sources}
        for result in iter_migrate(run.sources, config, run.context):
            if result.error is not None or result.path not in linted:
                continue
            lines = result.old_source.splitlines()
            refreshed = _refreshed_by_name(result.old_source)
            for finding in result.findings:
                message = _message(finding)
                if message is None or _reloaded(finding, refreshed):
                    continue
                text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
                found.append(LintFinding(
                    result.path, finding.line, len(text) - len(text.lstrip()) + 1, self.code,
                    message, f"|{' '.join(text.split())}"))
            if result.changed and all(f.code == "SQA400" and f.kind in _FIXES
                                      for f in result.findings):
                run.fixes[result.path] = result
        return found


_FIXES = frozenset({Kind.CHANGE, Kind.RUN_SYNC})
# The migration's TODOs on reads it could not prove loaded (each says MissingGreenlet).
_MARKED_READS = frozenset({"SQA405"})


def _marked_reads(path: str, text: str, code: str) -> list[LintFinding]:
    """A finding at the read under each TODO of `_MARKED_READS` left in the file."""
    lines = text.splitlines()
    return [LintFinding(path, line, col, code,
                        f"the migration could not prove this read loaded ({marker.code}): "
                        f"{marker.message}", f"|{' '.join(lines[line - 1].split())}")
            for line, col, marker in marked_statements(text, _MARKED_READS)]


def _message(finding: Finding) -> str | None:
    """What SQA500 says for a finding of the migration's rules (None: nothing)."""
    if finding.code == "SQA407" and finding.kind is Kind.TODO:
        return finding.message
    if finding.code != "SQA400":
        return None
    if finding.kind is Kind.RUN_SYNC:  # `for n in customer.notes` on lazy="dynamic"
        return ('a lazy="dynamic" relationship read runs a query, which raises '
                "MissingGreenlet under asyncio; run it in `await session.run_sync(...)` "
                "(--fix) or read `await session.scalars(obj.<rel>.statement)`")
    match = _SQA400.match(finding.message) if finding.kind is Kind.CHANGE else None
    if match is None:
        return None
    return (f"{match['read']} is read after this query, which does not load it: the implicit "
            f"load raises MissingGreenlet under asyncio; add `{match['fix']}`")


def _refreshed_by_name(text: str) -> dict[int, set[str]]:
    """Line of each `x = ...` → the attributes `refresh(x, [...])` later in its function
    names (async code loads relationships that way too: `await session.refresh(user,
    ["addresses"])`)."""
    found: dict[int, set[str]] = {}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return found
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        named: dict[str, list[tuple[int, set[str]]]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                    node.func.attr == "refresh") and len(node.args) > 1 and isinstance(
                    node.args[0], ast.Name) and isinstance(node.args[1], ast.List | ast.Tuple):
                names = {e.value for e in node.args[1].elts
                         if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                named.setdefault(node.args[0].id, []).append((node.lineno, names))
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                    node.targets[0], ast.Name):
                later = [names for line, names in named.get(node.targets[0].id, ())
                         if line > node.lineno]
                if later:
                    found[node.lineno] = set().union(*later)
    return found


def _reloaded(finding: Finding, refreshed: dict[int, set[str]]) -> bool:
    """Every relationship the finding names is loaded by a `refresh(x, [names])` of the
    object after the query (not proven to come before the read: a known gap)."""
    match = _SQA400.match(finding.message) if finding.code == "SQA400" else None
    names = refreshed.get(finding.line)
    if match is None or not names:
        return False
    firsts = {path.split(".")[1] for path in match["read"].split(", ") if "." in path}
    return bool(firsts) and firsts <= names
