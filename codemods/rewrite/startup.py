"""Module-level database start-up (`Base.metadata.create_all(bind=engine)` at import) that
must now await: where it can go instead of being left with a TODO.

* A FastAPI application module: into a `lifespan` handler the app is built with (uvicorn
  imports the module inside its running event loop, so nothing can be awaited at import).
* Any other module (a pytest module, a library module the project imports): run in place, at
  the moment the original ran it, so whatever imports the module finds the tables as before.
  It runs with `asyncio.run()` in a thread of its own: the importer may itself be running an
  event loop (uvicorn imports the app, and with it this module, inside its loop; a test may
  import it from an async test), where `asyncio.run()` refuses to start. Blocking the
  importer until it is done is what the synchronous statement did. Afterwards the engine's
  connections are disposed of: they belong to the loop that ends there (asyncpg's fail on any
  other loop) — except a `StaticPool`'s, whose one connection is the in-memory database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from .context import dotted

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
    # a FastAPI app module (what the plan decided moves into its lifespan); None: any other
    # module (run in place)
    app: AppStartup | None = None
    moved: list[cst.BaseStatement] = field(default_factory=list)
    # the engine each moved statement runs on, where it can be named again (not a call)
    engines: list[cst.BaseExpression | None] = field(default_factory=list)

    def add(self, statement: cst.BaseStatement, engine: cst.BaseExpression
            ) -> cst.BaseStatement:
        """Record a rewritten statement to move, which runs on `engine`; returns it."""
        self.moved.append(statement)
        self.engines.append(engine if dotted(engine) else None)
        return statement

    @property
    def in_place(self) -> bool:
        """The statements run where they are (no lifespan to move them into)."""
        return self.app is None

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
        executor_class = ctx.import_name("concurrent.futures", "ThreadPoolExecutor")
        static_pool = None
        body: list[cst.BaseStatement] = []
        taken: set[str] = set()
        for statement in module.body:
            at = next((i for i, m in enumerate(self.moved) if statement is m), None)
            if at is None:
                body.append(statement)
                continue
            name = ctx.free_name("_set_up_database", taken=taken)
            executor = ctx.free_name("_executor", taken=taken)
            taken |= {name, executor}
            work = [statement]
            engine = self.engines[at]
            if engine is not None:
                static_pool = static_pool or ctx.import_name("sqlalchemy.pool", "StaticPool")
                code = dotted(engine)
                work.append(cst.parse_statement(
                    f"if not isinstance({code}.pool, {static_pool}):\n"
                    f"    await {code}.dispose()\n"))
            body.append(_async_def(name, "", work))
            body.append(cst.parse_statement(
                f"with {executor_class}(1) as {executor}:\n"
                f"    {executor}.submit({asyncio}.run, {name}()).result()\n").with_changes(
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
