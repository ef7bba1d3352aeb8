"""SQA006: classical `mapper(cls, table)` → `registry.map_imperatively(cls, table)`."""

from __future__ import annotations

import libcst as cst

from ..analysis import Plan
from ..config import Config
from ..index import ModuleIndex
from .base import Case, Rule

_MAPPER = "sqlalchemy.orm.mapper"


class ImperativeMapping(Rule):
    """`sqlalchemy.orm.mapper()` is gone in SQLAlchemy 2.0: classical mappings go through a
    registry's `map_imperatively()` (same arguments, same Mapper returned; SQLAlchemy 1.4
    has it too). One module-level `registry()` serves every mapping of the module, so
    relationships between them resolve as before, and `clear_mappers()` still clears them.
    """

    code = "SQA006"
    summary = "mapper(cls, table, ...) → mapper_registry.map_imperatively(cls, table, ...)"
    targets = frozenset({"async", "sync"})
    cases = (
        Case("""
            from sqlalchemy import Column, Integer, MetaData, Table
            from sqlalchemy.orm import mapper

            metadata = MetaData()
            lines = Table("lines", metadata, Column("id", Integer, primary_key=True))


            class Line:
                pass


            def start_mappers():
                mapper(Line, lines)
        """, """
            from sqlalchemy import Column, Integer, MetaData, Table
            from sqlalchemy.orm import registry

            mapper_registry = registry()

            metadata = MetaData()
            lines = Table("lines", metadata, Column("id", Integer, primary_key=True))


            class Line:
                pass


            def start_mappers():
                mapper_registry.map_imperatively(Line, lines)
        """),
    )

    registry_name: str | None = None

    @classmethod
    def local_scopes(cls, ix: ModuleIndex, plan: Plan, config: Config) -> set[str]:
        return {site.scope for site in ix.calls if plan.qualify(ix, site.callee) == _MAPPER}

    def visit_Module(self, node: cst.Module) -> None:
        self.registry_name = None

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) != _MAPPER:
            return updated
        if self.registry_name is None:
            self.registry_name = self.ctx.free_name("mapper_registry")
        self.ctx.change(self.code, "mapper() → registry().map_imperatively() (mapper() is "
                                   "gone in SQLAlchemy 2.0)", original)
        self.ctx.drop_import("sqlalchemy.orm", "mapper")
        return updated.with_changes(func=cst.Attribute(
            value=cst.Name(self.registry_name), attr=cst.Name("map_imperatively")))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.registry_name is None:
            return updated
        registry = self.ctx.import_name("sqlalchemy.orm", "registry")
        body = list(updated.body)
        after = next((i for i in range(len(body) - 1, -1, -1) if _is_import(body[i])), -1) + 1
        statement = cst.parse_statement(f"{self.registry_name} = {registry}()\n")
        body.insert(after, statement.with_changes(leading_lines=[cst.EmptyLine()]))
        return updated.with_changes(body=body)


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body)
