"""libcst node builders shared by the rules: comma lists, keyword arguments, method calls,
run_sync lambdas, and the transformer that swaps one expression for another."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import libcst as cst

from .traversal import Transformer

_Listed = TypeVar("_Listed", cst.Arg, cst.Element, cst.ImportAlias, cst.WithItem)


def parse_expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


def comma() -> cst.Comma:
    """`, `: the separator the builders put between items."""
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def comma_separated(items: Sequence[_Listed]) -> list[_Listed]:
    """Items separated by `, `, the last one without a trailing comma."""
    return [item.with_changes(comma=comma()) for item in items[:-1]] + [
        item.with_changes(comma=cst.MaybeSentinel.DEFAULT) for item in items[-1:]]


def arguments(values: Sequence[cst.BaseExpression]) -> list[cst.Arg]:
    """Positional arguments `a, b, c`."""
    return comma_separated([cst.Arg(v) for v in values])


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value` (no spaces around `=`)."""
    return cst.Arg(keyword=cst.Name(name), value=value,
                   equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                         whitespace_after=cst.SimpleWhitespace("")))


def call(func: cst.BaseExpression, args: Sequence[cst.Arg] = ()) -> cst.Call:
    return cst.Call(func=func, args=list(args))


def method_call(receiver: cst.BaseExpression, name: str,
                args: Sequence[cst.Arg] = ()) -> cst.Call:
    """`receiver.name(args)`."""
    return call(cst.Attribute(value=receiver, attr=cst.Name(name)), args)


def run_sync_lambda(session: cst.BaseExpression, param: cst.Name,
                    body: cst.BaseExpression) -> cst.Call:
    """`session.run_sync(lambda param: body)`: `body` runs with the sync session as `param`."""
    fn = cst.Lambda(params=cst.Parameters(params=[cst.Param(param)]), body=body)
    return method_call(session, "run_sync", [cst.Arg(fn)])


def parenthesize(expr: cst.BaseExpression) -> cst.BaseExpression:
    """Parentheses an `await` needs when it is the target of `.attr`, `[i]` or a call."""
    if isinstance(expr, cst.Await) and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def with_keyword_default(call_node: cst.Call, name: str, value: str) -> cst.Call | None:
    """The call with `name=value` appended, or None when the keyword is already given."""
    if any(a.keyword is not None and a.keyword.value == name for a in call_node.args) or any(
            a.star == "**" for a in call_node.args):
        return None
    args = list(call_node.args)
    added = keyword(name, parse_expr(value))
    last = args[-1] if args else None
    if last is not None and isinstance(last.whitespace_after_arg, cst.ParenthesizedWhitespace):
        # one argument per line, `)` on its own line: the new one goes on a line of its own
        # (indented like the first argument), the line break before `)` after it
        separator = comma() if last.comma is cst.MaybeSentinel.DEFAULT else last.comma
        if isinstance(call_node.whitespace_before_args, cst.ParenthesizedWhitespace):
            separator = cst.Comma(whitespace_after=call_node.whitespace_before_args)
        args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
        added = added.with_changes(whitespace_after_arg=last.whitespace_after_arg)
    elif last is not None and isinstance(last.comma, cst.Comma) and isinstance(
            last.comma.whitespace_after, cst.ParenthesizedWhitespace):  # a trailing comma
        indent = call_node.whitespace_before_args if isinstance(
            call_node.whitespace_before_args, cst.ParenthesizedWhitespace) else (
            last.comma.whitespace_after)
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=indent))
        added = added.with_changes(comma=last.comma)
    elif last is not None and last.comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = last.with_changes(comma=comma())
    args.append(added)
    return call_node.with_changes(args=args)


class ReplaceExpression(Transformer):
    """Every occurrence of an expression (a session variable) → another (a run_sync
    parameter); attribute names and keywords that merely spell it are left alone."""

    def __init__(self, old: cst.BaseExpression, new: cst.BaseExpression) -> None:
        super().__init__()
        self.old, self.new = old, new
        self.names: set[int] = set()  # ids of Names that are not references

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.names.add(id(node.attr))  # `x.session` is not the session

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.names.add(id(node.keyword))

    def on_leave(self, original, updated):  # type: ignore[override]
        if isinstance(updated, cst.BaseExpression) and id(original) not in self.names and (
                updated.deep_equals(self.old)):
            return self.new
        return super().on_leave(original, updated)

    def transform(self, node: cst.BaseExpression) -> cst.BaseExpression:
        return node.visit(self)
