"""Module-level database start-up (`Base.metadata.create_all(bind=engine)` at import) that
must now await: where it can go instead of being left with a TODO.

* A FastAPI application module: into a `lifespan` handler the app is built with (uvicorn
  imports the module inside its running event loop, so nothing can be awaited at import).
* A pytest module (`test_*.py`, `*_test.py`, `conftest.py`): run in place with
  `asyncio.run()`, at the moment the original ran it (pytest imports test modules outside any
  event loop), so the tables exist before the tests that import-time code prepared them for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from .context import Context

Qualify = Callable[[cst.BaseExpression], "str | None"]

FASTAPI = "fastapi.FastAPI"
_TWO_LINES = (cst.EmptyLine(), cst.EmptyLine())


def is_pytest_module(module: str) -> bool:
    name = module.rpartition(".")[2]
    return name.startswith("test_") or name.endswith("_test") or name == "conftest"


def _assigned_call(statement: cst.BaseStatement) -> cst.Call | None:
    """The call of `name = call(...)`, if that is what the statement is."""
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
    value = small.value if isinstance(small, cst.Assign | cst.AnnAssign) else None
    return value if isinstance(value, cst.Call) else None


@dataclass
class Startup:
    """Where a module's import-time database work can go (see the module docstring)."""

    module: cst.Module
    lifespan: bool  # a FastAPI app module; else a pytest module (run in place)
    app_at: int = -1  # index of `app = FastAPI(...)` in the module body
    busy: str | None = None  # why a lifespan cannot be added (the app has a start-up already)
    moved: list[cst.BaseStatement] = field(default_factory=list)

    @classmethod
    def of(cls, module: cst.Module, name: str, qualify: Qualify, on_event: bool
           ) -> Startup | None:
        """`on_event`: the module registers `@app.on_event(...)` handlers."""
        apps = [(i, call) for i, s in enumerate(module.body)
                for call in [_assigned_call(s)] if call and qualify(call.func) == FASTAPI]
        if apps:
            at, call = apps[0]
            busy = any(a.keyword is not None and a.keyword.value in ("lifespan", "on_startup")
                       for a in call.args) or on_event
            return cls(module, True, at, "the FastAPI app already has a start-up handler: move "
                       "it there" if busy else None)
        return cls(module, False) if is_pytest_module(name) else None

    def add(self, statement: cst.BaseStatement) -> cst.BaseStatement:
        """Record a rewritten statement to move; returns it."""
        self.moved.append(statement)
        return statement

    def cannot_move(self, statement: cst.CSTNode) -> str | None:
        """Why this module-level statement cannot move, or None."""
        if not self.lifespan:
            return None
        if self.busy:
            return f"it runs at module level and {self.busy}"
        at = next((i for i, s in enumerate(self.module.body) if s is statement), None)
        if at is None or at > self.app_at:
            return "it runs at module level after the FastAPI app is built (move it before)"
        return None

    def apply(self, module: cst.Module, ctx: Context) -> cst.Module:
        """`module` (the rewritten one) with the moved statements in their new place."""
        if not self.moved:
            return module
        if self.lifespan:
            return self._into_lifespan(module, ctx.free_name("lifespan"),
                                       ctx.import_name("contextlib", "asynccontextmanager"))
        return self._in_place(module, ctx)

    def _into_lifespan(self, module: cst.Module, name: str, context_manager: str
                       ) -> cst.Module:
        # the rewrite keeps one statement for each original one: the app is where it was
        app = module.body[self.app_at]
        call = _assigned_call(app)
        assert call is not None
        body = [s for s in module.body if not any(s is m for m in self.moved)]
        first = next(i for i, s in enumerate(module.body) if s is self.moved[0])
        app_at = body.index(app)
        args = list(call.args)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" ")))
        tight = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                whitespace_after=cst.SimpleWhitespace(""))
        args.append(cst.Arg(keyword=cst.Name("lifespan"), value=cst.Name(name), equal=tight))
        body[app_at] = body[app_at].deep_replace(call, call.with_changes(args=args))
        handler = _async_def(name, "_app", [*self.moved, cst.parse_statement("yield")],
                             (context_manager,))
        body.insert(first, handler)
        body[first + 1] = body[first + 1].with_changes(leading_lines=_TWO_LINES)
        return module.with_changes(body=body)

    def _in_place(self, module: cst.Module, ctx: Context) -> cst.Module:
        asyncio = ctx.import_module("asyncio")
        body: list[cst.BaseStatement] = []
        taken: set[str] = set()
        for statement in module.body:
            if not any(statement is m for m in self.moved):
                body.append(statement)
                continue
            name = ctx.free_name("_set_up_database", taken=taken)
            taken.add(name)
            body.append(_async_def(name, "", [statement]))
            body.append(cst.parse_statement(f"{asyncio}.run({name}())").with_changes(
                leading_lines=_TWO_LINES))
        return module.with_changes(body=body)


def _async_def(name: str, params: str, body: list[cst.BaseStatement],
               decorators: tuple[str, ...] = ()) -> cst.FunctionDef:
    header = cst.ensure_type(cst.parse_statement(f"def f({params}): pass"), cst.FunctionDef)
    return cst.FunctionDef(
        name=cst.Name(name),
        params=header.params,
        body=cst.IndentedBlock(body=[s.with_changes(leading_lines=[]) for s in body]),
        asynchronous=cst.Asynchronous(),
        decorators=[cst.Decorator(decorator=cst.parse_expression(d)) for d in decorators],
        leading_lines=_TWO_LINES,
    )
