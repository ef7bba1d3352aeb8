"""The shape every rule has: a code, a one-line summary, a before/after docstring, hooks."""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from ..analysis import Plan
from ..config import Config
from ..index import ModuleIndex
from ..rewrite.context import Context

LOCAL = 1  # rewrites decided by looking at one expression or statement
COLOURING = 2  # `async def` and awaiting calls, decided after every file's local pass
AUDIT = 3  # read-only checks over each file's final tree; they only add TODOs


# Mapped classes several cases share, as the module `models.py` beside the case.
USERS_AND_ADDRESSES = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    addresses: Mapped[list["Address"]] = relationship(back_populates="user")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship(back_populates="addresses")
"""


# What rules guarantee to each other's output (`Rule.ensures` / `Rule.needs`), as the message
# refusing a selection says it.
GUARANTEES = {
    "async-functions": "a function that now awaits becomes `async def`",
    "awaited-callers": "a function made async is awaited or run by asyncio.run() where it is "
                       "called (entry points, commands, tests)",
    "async-objects": "what is awaited is an async engine or session",
    "awaited-io": "the I/O of an async engine or session is awaited (queries, commit, with)",
}


@dataclass(frozen=True)
class Case:
    """An executable example of a rule: the module `before`, migrated as a whole (with
    `models` as the module `models.py` beside it, which must become `models_after`, or stay
    as it is), gives `after` (None: the rule leaves it as it is). Text is dedented."""

    before: str
    after: str | None = None
    target: str = "async"
    strict_loading: bool = False
    models: str | None = None
    models_after: str | None = None

    @property
    def models_expected(self) -> str | None:
        text = self.models_after if self.models_after is not None else self.models
        return None if text is None else textwrap.dedent(text).lstrip("\n")

    @property
    def source(self) -> str:
        return textwrap.dedent(self.before).lstrip("\n")

    @property
    def expected(self) -> str:
        return self.source if self.after is None else textwrap.dedent(self.after).lstrip("\n")


class Rule:
    """Base class. Subclasses define `visit_<Node>` / `leave_<Node>` like a libcst transformer.

    Several rules share one traversal: each `leave_` receives the node as the rules before it
    left it, and must check the node type before changing it.
    """

    code: ClassVar[str]
    summary: ClassVar[str]
    phase: ClassVar[int] = LOCAL
    after: ClassVar[tuple[str, ...]] = ()  # codes of rules that must run earlier in the pass
    # Data handed between rules: the `RuleOutputs` fields a rule writes, and those it reads
    # (each written by a rule it declares in `after`).
    provides: ClassVar[frozenset[str]] = frozenset()
    reads: ClassVar[frozenset[str]] = frozenset()
    # What the code a rule writes relies on, and what a rule guarantees (keys of GUARANTEES):
    # `--select`/`--ignore` run every rule that ensures what an enabled rule needs, so a
    # selection never leaves an `await` outside an `async def` (see `resolve_selection`).
    ensures: ClassVar[frozenset[str]] = frozenset()
    needs: ClassVar[frozenset[str]] = frozenset()
    targets: ClassVar[frozenset[str]] = frozenset({"async"})  # `--target` values it serves
    # A local rule that also edits files outside the selection of an incremental run, where
    # its `local_scopes` find something there (the file keeps its own code otherwise).
    in_context: ClassVar[bool] = False

    # Executable examples (see `Case`); the first that changes code is the documented one.
    cases: ClassVar[tuple[Case, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @classmethod
    def local_scopes(cls, ix: ModuleIndex, plan: Plan, config: Config) -> set[str]:
        """Scopes ("" for module level) where this local rule can act although they hold no
        SQLAlchemy name (the local pass enters only scopes that do), from the index alone; a
        module with any is rewritten even when its text names no SQLAlchemy."""
        return set()

    @classmethod
    def description(cls) -> str:
        """The docstring below its first line."""
        return inspect.cleandoc(cls.__doc__ or "").partition("\n")[2].strip("\n")

    @classmethod
    def example(cls) -> str:
        """The rule's description and its first changing case as before/after text."""
        shown = next((c for c in cls.cases if c.after is not None), None)
        parts = [cls.description()]
        if shown is not None:
            target = "" if shown.target == "async" else f" (--target {shown.target})"
            parts += [f"Before{target}:\n" + textwrap.indent(shown.source, "    "),
                      "After:\n" + textwrap.indent(shown.expected, "    ")]
        return "\n\n".join(p.rstrip("\n") for p in parts if p)


class RenameReferences(Rule):
    """A rule that swaps references to sync classes/functions for their async counterparts.

    `renames` maps a qualified name to the (module, name) that replaces it; every reference —
    call, annotation, `isinstance` — is rewritten and the old import dropped once unused.
    """

    renames: ClassVar[dict[str, tuple[str, str]]] = {}
    # TODO left where a renamed class is subclassed (the subclass must stay sync); {name}
    subclass_todo: ClassVar[str | None] = None

    def _rename(self, original: cst.Name | cst.Attribute,
                updated: cst.BaseExpression) -> cst.BaseExpression:
        root: cst.BaseExpression = original
        while type(root) is cst.Attribute:
            root = root.value
        # renamed names are imported ones: skip the lookups for every other name
        if type(root) is not cst.Name or root.value not in self.ctx.ix.imports:
            return updated
        if not self.ctx.is_reference(original):
            return updated
        qualified = self.ctx.qualify(original)
        target = self.renames.get(qualified or "")
        if target is None:
            return updated
        if id(original) in self.ctx.event_targets:
            return updated  # event listeners stay on the sync class: it fires for async too
        if id(original) in self.ctx.class_bases:
            if self.subclass_todo:
                self.ctx.todo(self.code, self.subclass_todo.format(
                    name=self.ctx.scopes[-1][0] if self.ctx.scopes else "the class"), original)
            return updated
        self._drop_old_import(original, root.value)
        new = self.ctx.import_name(*target)
        if type(original) is cst.Name:  # what mocks of `module.<old>` now patch (SQA308)
            self.ctx.renamed.setdefault(original.value, new)
        self.ctx.change(self.code, f"{qualified.rpartition('.')[2]} → {new}", original)
        return cst.Name(new)

    def _drop_old_import(self, original: cst.Name | cst.Attribute, local: str) -> None:
        """Schedule removal of the import (of `local`) the reference used, kept if still read
        elsewhere."""
        qualified = self.ctx.ix.imports[local]
        if isinstance(original, cst.Attribute):  # `sa.create_engine`: `import sqlalchemy as sa`
            self.ctx.drop_import(qualified, None, None if qualified == local else local)
            return
        module, _, name = qualified.rpartition(".")
        self.ctx.drop_import(module, name, None if name == local else local)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        return self._rename(original, updated)

    def leave_Attribute(self, original: cst.Attribute,
                        updated: cst.BaseExpression) -> cst.BaseExpression:
        return self._rename(original, updated)


class AuditRule(Rule):
    """A check over the final tree of a file (after colouring) for what no rule handled; it
    leaves a TODO (SQA308 also makes the edits to test mocks it can prove). `scopes` says,
    from the index alone, where in a module it can find something, so files and functions it
    cannot are not traversed."""

    phase = AUDIT

    @classmethod
    def scopes(cls, ix: ModuleIndex, plan: Plan) -> set[str]:
        """Scopes (qualnames, "" for module level) where the check can find something."""
        raise NotImplementedError

    @classmethod
    def finds_in_original(cls, ix: ModuleIndex, plan: Plan) -> bool:
        """Whether the check can find something in a module the run leaves as it was read (no
        rule rewrote it): the engine parses such a module only for an audit that may. A rule
        that can tell more from the index than `scopes` says overrides it."""
        return bool(cls.scopes(ix, plan))
