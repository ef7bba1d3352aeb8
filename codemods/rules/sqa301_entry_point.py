"""SQA301: module-level calls of functions that became async run them with asyncio.run()."""

from __future__ import annotations

import libcst as cst

from ..rewrite.context import Context, callee
from .base import COLOURING, Case, Rule


class AsyncEntryPoint(Rule):
    """Module-level calls to functions that became async run them with `asyncio.run()`.

    Several such calls would each start their own event loop, which pooled async connections
    do not survive: in a script they run from one `async def main()` (SQA307); where they
    stay at module level (a module the project imports) the tool leaves a TODO to call them
    from one async function.
    """

    code = "SQA301"
    ensures = frozenset({"awaited-callers"})
    summary = "if __name__ == '__main__': main() → asyncio.run(main())"
    cases = (
        Case("""
            from sqlalchemy import create_engine, text


            def main() -> None:
                engine = create_engine("sqlite:///shop.db")
                with engine.connect() as conn:
                    print(conn.execute(text("select 1")).scalar())


            if __name__ == "__main__":
                main()
        """, """
            import asyncio

            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import create_async_engine


            async def main() -> None:
                engine = create_async_engine("sqlite+aiosqlite:///shop.db")
                async with engine.connect() as conn:
                    print((await conn.execute(text("select 1"))).scalar())


            if __name__ == "__main__":
                asyncio.run(main())
        """),
    )
    phase = COLOURING
    after = ("SQA300",)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.runs: list[cst.Call] = []
        self.already_run: set[int] = set()  # calls that are asyncio.run()'s argument already

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualify(node.func) == "asyncio.run" and node.args:
            self.already_run.add(id(node.args[0].value))

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if self.ctx.scopes or self.ctx.lambda_depth or id(original) in self.ctx.awaited or (
                id(original) in self.already_run) or self.ctx.in_entry_point:
            return updated
        name = callee(original.func)
        ref = name and self.ctx.plan.resolve_function(self.ctx.ix, "", name)
        if not ref or ref not in self.ctx.plan.async_functions or self.ctx.plan.sync_boundary(ref):
            return updated
        self.runs.append(original)
        if len(self.runs) == 2:
            self.ctx.todo(self.code, "asyncio.run() is called more than once: each call starts a "
                                     "new event loop that pooled async connections do not "
                                     "survive; call these from one async main()", original)
        asyncio = self.ctx.import_module("asyncio")
        self.ctx.change(self.code, f"{name}() → asyncio.run({name}())", original)
        return cst.Call(func=cst.Attribute(value=cst.Name(asyncio), attr=cst.Name("run")),
                        args=[cst.Arg(updated)])
