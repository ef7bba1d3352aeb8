"""SQA102: SQL given as a plain string to execute() is declared the way 1.x ran it."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..rewrite.build import call
from ..rewrite.traversal import Visitor
from .base import Case, Rule

_SESSION_METHODS = frozenset({"execute", "scalar", "scalars"})
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
# Parameters a connection's driver takes as they are: one tuple, list (executemany) or dict.
_DRIVER_PARAMETERS = (cst.Tuple, cst.List, cst.Dict)


class TextualSQL(Rule):
    """SQL passed as a plain string to execute() is declared explicitly (2.x refuses strings).

    On a session, 1.x read the string as `text()` (`:name` bound parameters): it becomes
    `session.execute(text("..."))`, with `from sqlalchemy import text` added. On a connection,
    1.x handed the string to the driver as it was (its own parameter style, `?` or `%s`, and no
    `:name` parsing): it becomes `conn.exec_driver_sql("...", params)`. A variable counts as a
    string only where every assignment to it is a string literal; otherwise, and for
    parameters the driver cannot take as they are written, a TODO. `Engine.execute()` was
    removed in 2.0: a TODO to run the statement on a connection. Both targets.
    """

    code = "SQA102"
    summary = "session.execute(\"SQL\") → execute(text(\"SQL\")); conn.execute(\"SQL\") → " \
              "conn.exec_driver_sql(\"SQL\")"
    targets = frozenset({"async", "sync"})
    cases = (
        Case("""
            from sqlalchemy.orm import Session


            def count_users(session: Session) -> int:
                return session.execute("SELECT count(*) FROM users WHERE name != :name",
                                       {"name": "root"}).scalar_one()
        """, """
            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import AsyncSession


            async def count_users(session: AsyncSession) -> int:
                return (await session.execute(text("SELECT count(*) FROM users WHERE name != :name"),
                                       {"name": "root"})).scalar_one()
        """),  # noqa: E501
        Case("""
            from sqlalchemy import Connection


            def add(conn: Connection, rows: list) -> None:
                conn.execute("INSERT INTO log VALUES (?, ?)", [(1, "a"), (2, "b")])
        """, """
            from sqlalchemy import Connection


            def add(conn: Connection, rows: list) -> None:
                conn.exec_driver_sql("INSERT INTO log VALUES (?, ?)", [(1, "a"), (2, "b")])
        """, target="sync"),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.module = node

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if type(updated) is not cst.Call or type(updated.func) is not cst.Attribute:
            return updated
        method = updated.func.attr.value
        if method not in _SESSION_METHODS:
            return updated
        kind = self.ctx.kind(original.func.value)
        if kind is ObjKind.ENGINE and method == "execute":
            self._engine_execute(original)
            return updated
        if kind is ObjKind.FLASK_SESSION:
            kind = ObjKind.SESSION  # a sync Session all the same
        if kind not in (ObjKind.SESSION, ObjKind.CONNECTION) or not updated.args or (
                updated.args[0].keyword is not None or updated.args[0].star):
            return updated
        statement = updated.args[0].value
        string = self._is_string(statement)
        if string is None:
            return updated
        receiver = f"{kind.value}.{method}()"
        if not string:
            name = statement.value if type(statement) is cst.Name else "the statement"
            self.ctx.todo(self.code, f"`{name}` may hold a SQL string, which 2.x refuses "
                          f"(ArgumentError): {self._fix(kind)}", original)
            return updated
        if kind is ObjKind.SESSION:
            text = self.ctx.import_name("sqlalchemy", "text")
            self.ctx.change(self.code, f"{receiver}: SQL string → text()", original)
            first = updated.args[0].with_changes(value=call(cst.Name(text), [cst.Arg(statement)]))
            return updated.with_changes(args=[first, *updated.args[1:]])
        if method != "execute":
            return updated
        rest = updated.args[1:]
        if len(rest) > 1 or any(a.keyword is not None or a.star for a in rest) or (
                rest and not isinstance(rest[0].value, _DRIVER_PARAMETERS)):
            self.ctx.todo(self.code, "the SQL string runs on the driver as it is: use "
                          "conn.exec_driver_sql(sql, params) with the parameters as one tuple, "
                          "list of tuples or dict", original)
            return updated
        self.ctx.change(self.code, "connection.execute(SQL string) → exec_driver_sql() (the "
                        "driver's SQL, as 1.x ran it)", original)
        return updated.with_changes(func=updated.func.with_changes(
            attr=cst.Name("exec_driver_sql")))

    def _fix(self, kind: ObjKind) -> str:
        return ("wrap it in text() (1.x read it as text(), with :name parameters)"
                if kind is ObjKind.SESSION else
                "run it with conn.exec_driver_sql() (1.x gave it to the driver as it was)")

    def _engine_execute(self, original: cst.Call) -> None:
        run = "async with engine.begin() as conn: await conn" if self.ctx.async_target else (
            "with engine.begin() as conn: conn")
        self.ctx.todo(self.code, "Engine.execute() was removed in SQLAlchemy 2.0: run the "
                      f"statement on a connection ({run}.execute(statement), or "
                      ".exec_driver_sql(sql) for a SQL string) and read its rows inside the "
                      "block", original)

    def _is_string(self, expr: cst.BaseExpression) -> bool | None:
        """True for a string literal or a name only string literals are assigned to, False
        for a name that may hold a string the tool cannot prove (built from strings, a
        parameter annotated `str`), None for anything else (a `text()`, a `select()`)."""
        if isinstance(expr, _STRINGS):
            return True
        if type(expr) is not cst.Name:
            return None
        where = self.ctx.plan.binding_scope(self.ctx.ix, self.ctx.scope, expr.value)
        scope = None if where is None else self.module if where == "" else next(
            (node for name, node in _qualified_scopes(self.ctx.scopes) if name == where), None)
        if scope is None:
            return None
        bindings = _StringBindings(expr.value)
        if where == "":
            self.module.visit(_GlobalDeclarations(bindings))
        scope.visit(bindings)
        if not bindings.stringish:
            return None
        return bindings.literals > 0 and not bindings.other


def _qualified_scopes(scopes: list[tuple[str, cst.CSTNode]]) -> list[tuple[str, cst.CSTNode]]:
    return [(".".join(name for name, _ in scopes[:i + 1]), node)
            for i, (_, node) in enumerate(scopes)]


class _StringBindings(Visitor):
    """How `name` is bound directly in one scope (nested functions and classes bind their
    own names): by string literals, by values that look like strings (built from literals,
    a parameter annotated `str`), by anything else."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.literals = 0
        self.stringish = False  # a binding that is or looks like a string
        self.other = False  # a binding that is not a string literal
        self.root: cst.CSTNode | None = None

    def _binds(self, target: cst.BaseExpression) -> bool:
        if type(target) is cst.Name:
            return target.value == self.name
        if isinstance(target, (cst.Tuple, cst.List)):
            return any(self._binds(e.value) for e in target.elements)
        return type(target) is cst.StarredElement and self._binds(target.value)

    def _assigned(self, value: cst.BaseExpression, literal_allowed: bool) -> None:
        if literal_allowed and isinstance(value, _STRINGS):
            self.literals += 1
            self.stringish = True
            return
        self.other = True
        self.stringish |= _looks_like_string(value)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.root is None:
            self.root = node
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            if not isinstance(node, cst.Lambda) and node.name.value == self.name:
                self.other = True
            return False
        if isinstance(node, cst.Assign):
            if any(self._binds(t.target) for t in node.targets):
                self._assigned(node.value, all(type(t.target) is cst.Name for t in node.targets))
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            if self._binds(node.target) and node.value is not None:
                self._assigned(node.value, isinstance(node, cst.AnnAssign) or isinstance(
                    node.operator, cst.AddAssign))
        elif isinstance(node, cst.Param):
            if node.name.value == self.name:
                self.other = True
                self.stringish |= _annotated_str(node.annotation)
        elif isinstance(node, (cst.For, cst.CompFor)):
            self.other |= self._binds(node.target)
        elif isinstance(node, cst.AsName):
            self.other |= self._binds(node.name)
        elif isinstance(node, cst.NamedExpr):
            self.other |= self._binds(node.target)
        elif isinstance(node, cst.Del):
            self.other |= self._binds(node.target)
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            self.other |= any(n.name.value == self.name for n in node.names)
        elif isinstance(node, cst.ImportAlias):
            bound = node.asname.name if node.asname else node.name
            self.other |= type(bound) is cst.Name and bound.value == self.name
        elif isinstance(node, cst.Match):
            self.other = True  # capture patterns bind names
        return True


def _annotated_str(annotation: cst.Annotation | None) -> bool:
    return annotation is not None and type(annotation.annotation) is cst.Name and (
        annotation.annotation.value == "str")


def _looks_like_string(value: cst.BaseExpression) -> bool:
    """Built from a string literal: `"a" + b`, `"%s" % x`, `"{}".format(x)`, `" ".join(xs)`,
    `str(x)`."""
    if isinstance(value, _STRINGS):
        return True
    if isinstance(value, cst.BinaryOperation):
        return _looks_like_string(value.left) or _looks_like_string(value.right)
    if isinstance(value, cst.Call):
        func = value.func
        return (type(func) is cst.Name and func.value == "str") or (
            isinstance(func, cst.Attribute) and _looks_like_string(func.value))
    return False


class _GlobalDeclarations(Visitor):
    """Any `global name` in a function of the module: the module-level name can be rebound
    there."""

    def __init__(self, bindings: _StringBindings) -> None:
        self.bindings = bindings

    def visit_Global(self, node: cst.Global) -> None:
        if any(n.name.value == self.bindings.name for n in node.names):
            self.bindings.other = True
