"""Module-level database start-up (`Base.metadata.create_all(bind=engine)` at import) that
must now await: where it can go instead of being left with a TODO.

* A FastAPI application module: into a `lifespan` handler the app is built with (uvicorn
  imports the module inside its running event loop, so nothing can be awaited at import).
* A pytest module (`test_*.py`, `*_test.py`, `conftest.py`): run in place with
  `asyncio.run()`, at the moment the original ran it (pytest imports test modules outside any
  event loop), so the tables exist before the tests that import-time code prepared them for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from ..analysis.startup import is_pytest_module

if TYPE_CHECKING:
    from ..analysis.startup import AppStartup
    from .context import Context

_TWO_LINES = (cst.EmptyLine(), cst.EmptyLine())


def _assigned_call(statement: cst.BaseStatement) -> cst.Call | None:
    """The call of `name = call(...)`, if that is what the statement is."""
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
    value = small.value if isinstance(small, cst.Assign | cst.AnnAssign) else None
    return value if isinstance(value, cst.Call) else None


@dataclass
class Startup:
    """Where a module's import-time database work can go (see the module docstring)."""

    module: cst.Module
    # a FastAPI app module (what the plan decided moves into its lifespan); None: a pytest
    # module (run in place)
    app: AppStartup | None = None
    moved: list[cst.BaseStatement] = field(default_factory=list)

    @classmethod
    def of(cls, module: cst.Module, name: str, app: AppStartup | None) -> Startup | None:
        """`app`: the plan's answer for the module's FastAPI app, if it builds one."""
        if app is not None:
            return cls(module, app)
        return cls(module) if is_pytest_module(name) else None

    def add(self, statement: cst.BaseStatement) -> cst.BaseStatement:
        """Record a rewritten statement to move; returns it."""
        self.moved.append(statement)
        return statement

    def cannot_move(self, statement: cst.CSTNode) -> str | None:
        """Why this module-level statement cannot move, or None."""
        if self.app is None:
            return None
        at = next((i for i, s in enumerate(self.module.body) if s is statement), None)
        return self.app.cannot_move(len(self.module.body) if at is None else at)

    def apply(self, module: cst.Module, ctx: Context) -> cst.Module:
        """`module` (the rewritten one) with the moved statements in their new place."""
        if not self.moved:
            return module
        if self.app is not None:
            return self._into_lifespan(module, ctx.free_name("lifespan"),
                                       ctx.import_name("contextlib", "asynccontextmanager"))
        return self._in_place(module, ctx)

    def _into_lifespan(self, module: cst.Module, name: str, context_manager: str
                       ) -> cst.Module:
        # the rewrite keeps one statement for each original one: the app is where it was
        app = module.body[self.app.at]
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
