"""SQA307: the work a script does at module level runs in `async def main()`."""

from __future__ import annotations

import libcst as cst

from ..rewrite.scripts import RULE, bound_names, is_main_guard
from .base import COLOURING, Case, Rule


class ScriptEntryPoint(Rule):
    """A script's work moves into one `async def main()` started by `asyncio.run()`.

    Database work at module level or in `if __name__ == "__main__":` runs, in its order,
    inside `async def main()`, started by `asyncio.run(main())` under `if __name__ ==
    "__main__":`. Imports, functions, classes, engines and session factories stay at module
    level, where other code finds them; a definition after the first moved statement moves
    with it when defining it earlier could change something (a decorated function, a mapped
    class, a value built by calls). A name the moved code binds that module code or a
    function reads is declared `global` in `main()`. When the module already has a `main`,
    the function gets a free name (`_main`).

    Module-level statements also ran when the module was imported: they move only when
    nothing imports the module. In a module the project imports, a package `__init__.py`, a
    pytest module or an Alembic env they stay, with a TODO naming what imports it. Modules
    creating a FastAPI app, and Flask and Pyramid applications, are left as they are. A
    `__main__` block whose only async work is one call is left to SQA301.
    """

    code = RULE
    ensures = frozenset({"awaited-callers"})
    summary = "module-level script work / __main__ blocks → async def main() + asyncio.run()"
    cases = (
        Case("""
            from sqlalchemy import create_engine, text
            from sqlalchemy.orm import Session

            engine = create_engine("sqlite:///shop.db")
            with Session(engine) as session:
                print(session.execute(text("select 1")).scalar_one())
            print("done")
        """, """
            import asyncio

            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")


            async def main():
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    print((await session.execute(text("select 1"))).scalar_one())
                print("done")


            if __name__ == "__main__":
                asyncio.run(main())
        """),
        Case("""
            from sqlalchemy import create_engine, text
            from sqlalchemy.orm import Session

            engine = create_engine("sqlite:///shop.db")
            total = 0


            def report() -> None:
                print("total", total)


            if __name__ == "__main__":
                with Session(engine) as session:
                    total = session.execute(text("select 2")).scalar_one()
                report()
        """, """
            import asyncio

            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")
            total = 0


            def report() -> None:
                print("total", total)


            async def main():
                global total
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    total = (await session.execute(text("select 2"))).scalar_one()
                report()


            if __name__ == "__main__":
                asyncio.run(main())
        """),
    )
    phase = COLOURING
    after = ("SQA300", "SQA301", "SQA305")

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        entry = self.ctx.entry
        if entry is None or not entry.moving:
            return updated
        moving = {id(self.ctx.anchor(s)) for s in original.body if entry.moves(s)}
        staying: list[cst.BaseStatement] = []
        moved: list[cst.BaseStatement] = []
        previous = False
        for statement in updated.body:
            anchor = self.ctx.anchor(statement)
            moves = id(anchor) in moving if anchor is not None else previous and not (
                isinstance(statement, (cst.FunctionDef, cst.ClassDef)))
            (moved if moves else staying).append(statement)
            previous = moves
        if not moved:
            return updated
        guard = next((s for s in moved if is_main_guard(s)), None)
        body = [line for s in moved for line in (_block(s) if is_main_guard(s) else [s])]
        name = self.ctx.free_name("main", "_main", "main_async",
                                  taken=set().union(*(bound_names(s) for s in body)))
        shared = sorted(set().union(*(bound_names(s) for s in body)) & self._read_outside(
            staying))
        body = [_tidy(s, first=i == 0) for i, s in enumerate(body)]
        if shared:
            body.insert(0, cst.parse_statement(f"global {', '.join(shared)}\n"))
        function = cst.FunctionDef(
            name=cst.Name(name), params=cst.Parameters(), body=cst.IndentedBlock(body=body),
            asynchronous=cst.Asynchronous(),
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()] if staying else [])
        run = cst.parse_statement(f"{self.ctx.import_module('asyncio')}.run({name}())\n")
        new_guard = (guard or cst.parse_statement('if __name__ == "__main__":\n    pass\n')
                     .with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]))
        header = new_guard.body.header if isinstance(new_guard.body, cst.IndentedBlock) else (
            cst.TrailingWhitespace())
        new_guard = new_guard.with_changes(body=cst.IndentedBlock(body=[run], header=header))
        self._report(moved, guard, name, shared)
        self.ctx.entry_function = name  # the audit reads it as module-level code
        return updated.with_changes(body=[*staying, function, new_guard])

    def _report(self, moved: list[cst.BaseStatement], guard: cst.If | None, name: str,
                shared: list[str]) -> None:
        module_level = any(not is_main_guard(s) for s in moved)
        what = ("the statements this script runs at module level (nothing in the project "
                "imports it, so running them only as a program keeps what it does)"
                if module_level else "the `if __name__ == \"__main__\":` block")
        if module_level and guard is not None:
            what += " and its `if __name__ == \"__main__\":` block"
        declared = f"; `global {', '.join(shared)}` keeps what they bind visible to the " \
                   "module" if shared else ""
        self.ctx.change(self.code, f"{what} → async def {name}(), run once by "
                                   f"asyncio.run({name}()){declared}", moved[0])

    def _read_outside(self, staying: list[cst.BaseStatement]) -> set[str]:
        """The names the statements staying at module level bind, and the module-level names
        functions read (their parameters and what they bind are their own; a class body
        runs before `main()` and reads nothing it binds)."""
        plan, ix = self.ctx.plan, self.ctx.ix
        names = set().union(*(bound_names(s) for s in staying))
        for scope, info in ix.functions.items():
            read = ix.names_read.get(scope, set()) - set(info.params)
            names |= {n for n in read if plan.binding_scope(ix, scope, n) in ("", None)}
        return names


def _block(guard: cst.If) -> list[cst.BaseStatement]:
    """The statements of an `if` block (a one-line `if ...: a; b` as one line)."""
    if isinstance(guard.body, cst.IndentedBlock):
        return list(guard.body.body)
    return [cst.SimpleStatementLine(body=guard.body.body,
                                    trailing_whitespace=guard.body.trailing_whitespace)]


def _tidy(statement: cst.BaseStatement, first: bool) -> cst.BaseStatement:
    """The statement with at most one blank line above it (none when it comes first in the
    function); its comments stay."""
    if not hasattr(statement, "leading_lines"):
        return statement
    lines: list[cst.EmptyLine] = []
    for line in statement.leading_lines:
        if line.comment is not None:
            lines.append(line)
        elif lines and lines[-1].comment is not None or not lines and not first:
            lines.append(line.with_changes(indent=False, whitespace=cst.SimpleWhitespace("")))
    return statement.with_changes(leading_lines=lines)
