"""SQA305: functions a framework calls synchronously keep a sync wrapper around the async body."""

from __future__ import annotations

import libcst as cst

from ..rewrite.build import comma_separated, keyword
from .base import COLOURING, Case, Rule


class SyncBoundary(Rule):
    """A click/typer command, a Celery task or a console script stays callable synchronously.

        async def _orders_async(email):
            async with SessionLocal() as session:
                print(await history(session, email))

    The framework keeps calling the same name with the same signature; the work runs in one
    event loop per call. Its callers stay synchronous. Click drop-ins (`rich_click`, `cloup`)
    and click's decorators re-exported by a project module count as click; asyncclick awaits
    a coroutine callback itself, so its commands become `async def` with no wrapper.
    """

    code = "SQA305"
    ensures = frozenset({"awaited-callers"})
    summary = "click/typer commands, Celery tasks, console scripts → sync wrapper + async body"
    cases = (
        Case("""
            import click
            from sqlalchemy import create_engine, text


            @click.command()
            def ping() -> None:
                engine = create_engine("sqlite:///shop.db")
                with engine.connect() as conn:
                    click.echo(conn.execute(text("select 1")).scalar())
        """, """
            import asyncio

            import click
            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import create_async_engine


            @click.command()
            def ping() -> None:
                return asyncio.run(_ping_async())


            async def _ping_async() -> None:
                engine = create_async_engine("sqlite+aiosqlite:///shop.db")
                async with engine.connect() as conn:
                    click.echo((await conn.execute(text("select 1"))).scalar())
        """),
    )
    phase = COLOURING
    after = ("SQA300", "SQA302")

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef
                          ) -> cst.BaseStatement | cst.FlattenSentinel:
        ref = (self.ctx.ix.module, self.ctx.scope)
        if updated.asynchronous is None or original.asynchronous is not None or (
                ref not in self.ctx.plan.async_functions):
            return updated
        caller = self.ctx.plan.sync_boundary(ref)
        if caller is None or self.ctx.plan.framework_awaits(ref):
            return updated  # (asyncclick awaits an async callback: it stays `async def`)
        impl_name = impl_scope(original.name.value)
        asyncio = self.ctx.import_module("asyncio")
        call = cst.Call(func=cst.Name(impl_name), args=_forwarded(original.params))
        run = cst.Call(func=cst.Attribute(value=cst.Name(asyncio), attr=cst.Name("run")),
                       args=[cst.Arg(call)])
        wrapper = updated.with_changes(
            asynchronous=None,
            body=cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Return(run)])]))
        impl = updated.with_changes(
            name=cst.Name(impl_name), decorators=[],
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()] if not self.ctx.scopes[:-1]
            else [cst.EmptyLine()])
        self.ctx.change(self.code, f"{original.name.value}() is called synchronously by "
                                   f"{caller}: a sync wrapper runs {impl_name}() with "
                                   "asyncio.run()", original)
        return cst.FlattenSentinel([wrapper, impl])


def _forwarded(params: cst.Parameters) -> list[cst.Arg]:
    """The arguments that pass a signature's parameters on unchanged."""
    args = [cst.Arg(cst.Name(p.name.value)) for p in [*params.posonly_params, *params.params]]
    if isinstance(params.star_arg, cst.Param):
        args.append(cst.Arg(cst.Name(params.star_arg.name.value), star="*"))
    args += [keyword(p.name.value, cst.Name(p.name.value)) for p in params.kwonly_params]
    if params.star_kwarg is not None:
        args.append(cst.Arg(cst.Name(params.star_kwarg.name.value), star="**"))
    return comma_separated(args)


def impl_scope(scope: str) -> str:
    """The `async def` holding the body of the sync callback `scope` (its wrapper runs it
    with asyncio.run): `ping` → `_ping_async`, `Cli.ping` → `Cli._ping_async`."""
    owner, dot, name = scope.rpartition(".")
    return f"{owner}{dot}_{name}_async"
