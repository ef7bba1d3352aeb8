"""libcst builders for consuming an async generator where sync code consumed a generator:
collecting it (`[x async for x in gen()]`), taking its first item (`await anext(...)`, closed
right away as the sync generator was), and re-yielding it (`async for x in gen(): yield x`)."""

from __future__ import annotations

import libcst as cst

from .build import arguments, call, comma_separated, method_call


def collected(iterable: cst.BaseExpression) -> cst.ListComp:
    """`[x async for x in iterable]` (the name is the comprehension's own)."""
    return cst.ListComp(elt=cst.Name("x"), for_in=cst.CompFor(
        target=cst.Name("x"), iter=iterable, asynchronous=cst.Asynchronous()))


def as_list(comprehension: cst.GeneratorExp) -> cst.ListComp:
    """`(f(x) async for x in gen())` → `[f(x) async for x in gen()]`."""
    return cst.ListComp(elt=comprehension.elt, for_in=comprehension.for_in)


def first_item(generator: cst.BaseExpression, default: cst.BaseExpression | None,
               with_anext: bool) -> cst.Await:
    """`await anext(generator[, default])`; without `anext` (before Python 3.10)
    `await generator.__anext__()` (no default)."""
    if with_anext:
        values = [generator] if default is None else [generator, default]
        return cst.Await(expression=call(cst.Name("anext"), arguments(values)))
    return cst.Await(expression=method_call(generator, "__anext__"))


def closing_block(statement: cst.SimpleStatementLine, aclosing: str,
                  generators: list[tuple[str, cst.BaseExpression]]) -> cst.With:
    """`async with aclosing(gen()) as name: statement` — the generator is closed once the
    statement has its item, as CPython closed the sync one nobody held any more."""
    items = comma_separated([
        cst.WithItem(item=call(cst.Name(aclosing), arguments([generator])),
                     asname=cst.AsName(name=cst.Name(name))) for name, generator in generators])
    return cst.With(items=items, asynchronous=cst.Asynchronous(),
                    body=cst.IndentedBlock(body=[statement.with_changes(leading_lines=[])]),
                    leading_lines=statement.leading_lines)


def reyielding_loop(statement: cst.SimpleStatementLine, iterable: cst.BaseExpression,
                    name: str, asynchronous: bool) -> cst.For:
    """`yield from it` → `for name in it: yield name` (`async for` over an async generator)."""
    body = cst.SimpleStatementLine(body=[cst.Expr(cst.Yield(value=cst.Name(name)))])
    return cst.For(target=cst.Name(name), iter=iterable,
                   asynchronous=cst.Asynchronous() if asynchronous else None,
                   body=cst.IndentedBlock(body=[body]), leading_lines=statement.leading_lines)
