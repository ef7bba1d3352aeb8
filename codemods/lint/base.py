"""The shape of a lint rule: a code, a one-line summary, a docstring, invalid/valid cases, and
a check over one parsed file of async code that reports findings through `LintContext`."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..analysis import ObjKind, Plan
from ..index import ModuleIndex
from ..rewrite.context import dotted

if TYPE_CHECKING:
    from .runner import LintRun

Function = cst.FunctionDef


@dataclass(frozen=True, order=True)
class LintFinding:
    """One problem: where (1-based line and column), which rule, what to do about it.
    `context` is the source line and enclosing function the baseline fingerprints."""

    path: str
    line: int
    col: int
    code: str
    message: str
    context: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "column": self.col, "code": self.code,
                "message": self.message}


@dataclass(frozen=True)
class LintCase:
    """An executable example: `invalid` (with `models` as `models.py` beside it) gets at least
    one finding of the rule, `valid` (the fix) none; for a rule with `--fix`, fixing
    `invalid` gives `valid`. `strict`: the case needs `--strict`."""

    invalid: str
    valid: str
    models: str | None = None
    strict: bool = False

    @property
    def invalid_source(self) -> str:
        return textwrap.dedent(self.invalid).lstrip("\n")

    @property
    def valid_source(self) -> str:
        return textwrap.dedent(self.valid).lstrip("\n")


class LintContext:
    """What a rule sees of one file: its tree (with positions), index and the project plan;
    `report` files a finding at a node."""

    def __init__(self, path: str, module: cst.Module, ix: ModuleIndex, plan: Plan,
                 texts: dict[str, str] | None = None) -> None:
        self.path, self.ix, self.plan = path, ix, plan
        self.texts = texts or {}  # path → text of every file of the project
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.module = wrapper.module
        self.positions = wrapper.resolve(PositionProvider)
        self.lines = module.code.splitlines()
        self.findings: list[LintFinding] = []

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.positions[node].start
        return start.line, start.column + 1

    def report(self, code: str, node: cst.CSTNode, message: str, scope: str = "") -> None:
        line, col = self.position(node)
        self.add(code, line, col, message, scope)

    def add(self, code: str, line: int, col: int, message: str, scope: str = "") -> None:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        self.findings.append(LintFinding(self.path, line, col, code, message,
                                         f"{scope}|{' '.join(text.split())}"))

    # -- names ----------------------------------------------------------------------------------
    def qualify(self, node: cst.BaseExpression) -> str | None:
        """The qualified name an expression (a dotted name) refers to, imports followed."""
        name = dotted(node)
        return self.plan.qualify(self.ix, name) if name else None

    def kind(self, scope: str, node: cst.BaseExpression) -> ObjKind | None:
        name = dotted(node)
        return self.plan.kind(self.ix, scope, name) if name else None

    def mapped_class(self, scope: str, node: cst.BaseExpression) -> str | None:
        name = dotted(node)
        return self.plan.mapped_class(self.ix, scope, name) if name else None

    def async_functions(self) -> Iterator[tuple[str, Function]]:
        """(qualname, node) of every `async def` of the file, nested ones too."""
        yield from ((q, f) for q, f in self.functions() if f.asynchronous is not None)

    def functions(self) -> Iterator[tuple[str, Function]]:
        found: list[tuple[str, Function]] = []

        def walk(body: cst.BaseSuite | cst.Module, prefix: str) -> None:
            statements = body.body if isinstance(body, cst.Module | cst.IndentedBlock) else ()
            for statement in statements:
                for inner in _compound_bodies(statement):
                    walk(inner, prefix)
                if isinstance(statement, cst.FunctionDef | cst.ClassDef):
                    qualname = f"{prefix}{statement.name.value}"
                    if isinstance(statement, cst.FunctionDef):
                        found.append((qualname, statement))
                    walk(statement.body, f"{qualname}.")

        walk(self.module, "")
        yield from found


def _compound_bodies(statement: cst.CSTNode) -> list[cst.BaseSuite]:
    """The blocks of an `if`/`for`/`while`/`try`/`with` (definitions inside them count)."""
    if isinstance(statement, cst.FunctionDef | cst.ClassDef | cst.SimpleStatementLine):
        return []
    found = []
    for name in ("body", "orelse", "finalbody"):
        value = getattr(statement, name, None)
        while isinstance(value, cst.Else | cst.Finally | cst.If):
            if isinstance(value, cst.If):
                found.append(value.body)
                value = value.orelse
                continue
            value = value.body
        if isinstance(value, cst.BaseSuite):
            found.append(value)
    found.extend(h.body for h in getattr(statement, "handlers", ()))
    return found


class LintRule:
    """Base class: `check` looks at one file and reports through `ctx`; a rule that needs
    the whole migration analysis overrides `check_project` instead (see `runner.LintRun`)."""

    code: ClassVar[str]
    summary: ClassVar[str]
    cases: ClassVar[tuple[LintCase, ...]] = ()
    strict_only: ClassVar[bool] = False  # runs only with `--strict`
    fixable: ClassVar[bool] = False  # `--fix` applies what it reports

    def check(self, ctx: LintContext) -> None:
        """Per-file findings (none by default)."""

    def check_project(self, run: LintRun) -> list[LintFinding]:
        """Findings over the whole run (none by default)."""
        return []

    @classmethod
    def description(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "").partition("\n")[2].strip("\n")

    @classmethod
    def example(cls) -> str:
        """The description and the first case as invalid/valid text (`rules CODE`)."""
        parts = [cls.description()]
        if cls.cases:
            case = cls.cases[0]
            parts += ["Invalid:\n" + textwrap.indent(case.invalid_source, "    "),
                      ("Fixed (--fix):\n" if cls.fixable else "Valid:\n")
                      + textwrap.indent(case.valid_source, "    ")]
        return "\n\n".join(p.rstrip("\n") for p in parts if p)
