"""SQA505 (--strict): relationships that load lazily on read, on models async code uses."""

from __future__ import annotations

import libcst as cst

from ..api_surface import RELATIONSHIP_FUNCTIONS
from ..rules.base import USERS_AND_ADDRESSES
from .base import LintCase, LintContext, LintRule

# the check's models, on the asyncio API (`AsyncAttrs`: `await obj.awaitable_attrs.x`)
_ASYNC_MODELS = USERS_AND_ADDRESSES.replace(
    "from sqlalchemy.orm import", "from sqlalchemy.ext.asyncio import AsyncAttrs\nfrom "
    "sqlalchemy.orm import").replace("class Base(DeclarativeBase)",
                                     "class Base(AsyncAttrs, DeclarativeBase)")


class LazySelectRelationships(LintRule):
    """With `--strict`, relationships of mapped classes used from async code do not load on
    read.

    `lazy="select"` (the default) loads a relationship the first time it is read: under
    asyncio that raises `MissingGreenlet`, except for a many-to-one whose object is already in
    the identity map, which works without SQL, so tests that happen to load it first pass
    while production fails. `lazy="raise"` makes every unplanned load fail the same way, at
    once (queries then say what they load: `selectinload(...)`), and `lazy="selectin"` loads
    it with its parent always. Reported only when the project uses SQLAlchemy's asyncio API.
    """

    code = "SQA505"
    summary = 'lazy="select" (default) relationship on a model used from async code → lazy="raise"'
    strict_only = True
    cases = (
        LintCase(_ASYNC_MODELS, _ASYNC_MODELS.replace(
            'relationship(back_populates="user")',
            'relationship(back_populates="user", lazy="raise")').replace(
            'relationship(back_populates="addresses")',
            'relationship(back_populates="addresses", lazy="raise")'), strict=True),
    )

    def check(self, ctx: LintContext) -> None:
        if not _uses_asyncio(ctx):
            return
        prefix = f"{ctx.ix.module}." if ctx.ix.module else ""
        for name, info in ctx.ix.classes.items():
            if f"{prefix}{name}" not in ctx.plan.mapped_classes:
                continue
            lazy = {attr for attr, rel in info.relationships.items()
                    if rel.lazy in (None, "select", "True")}
            for node in _class_statements(ctx.module, name):
                target, value = _assigned(node)
                if target in lazy and isinstance(value, cst.Call) and (
                        ctx.qualify(value.func) in RELATIONSHIP_FUNCTIONS):
                    ctx.report(self.code, value, f"{name}.{target} loads lazily when read "
                                                 "(MissingGreenlet under asyncio, silent "
                                                 "where the object is in the identity map): "
                                                 'set lazy="raise" and load it explicitly, '
                                                 'or lazy="selectin"', name)


def _uses_asyncio(ctx: LintContext) -> bool:
    return any(q.startswith("sqlalchemy.ext.asyncio") or q.startswith("sqlmodel.ext.asyncio")
               for ix in ctx.plan.modules.values() for q in ix.imports.values())


def _class_statements(module: cst.Module, qualname: str) -> list[cst.BaseStatement]:
    body: list[cst.BaseStatement] = list(module.body)
    for part in qualname.split("."):
        cls = next((s for s in body if isinstance(s, cst.ClassDef) and s.name.value == part),
                   None)
        if cls is None or not isinstance(cls.body, cst.IndentedBlock):
            return []
        body = list(cls.body.body)
    return body


def _assigned(node: cst.BaseStatement) -> tuple[str | None, cst.BaseExpression | None]:
    small = node.body[0] if isinstance(node, cst.SimpleStatementLine) else None
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
        return small.target.value, small.value
    if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    return None, None
