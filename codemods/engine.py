"""Runs the rules over files: index → plan → local pass → colouring → colouring pass → verify.

Every file's outcome is a `FileResult` value; one bad file never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider

from .context import Context
from .index import ModuleIndex, index_source
from .plan import FunctionRef, Plan
from .results import FileResult, Finding
from .rules import Rule, select_rules
from .rules.base import COLOURING, LOCAL
from .sources import SourceFile

# Node types whose original line is carried from the local pass to the colouring pass.
_LINE_CARRIERS = (cst.Call, cst.FunctionDef, cst.SimpleStatementLine, cst.BaseCompoundStatement)


@dataclass(frozen=True)
class Config:
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    target: str = "async"

    def rules(self, phase: int) -> list[type[Rule]]:
        return [r for r in select_rules(set(self.select), set(self.ignore)) if r.phase == phase]


class _RulePass(cst.CSTTransformer):
    """One traversal that gives every node to each rule in order (Fixit-style dispatch)."""

    def __init__(self, ctx: Context, rules: list[type[Rule]],
                 carried_lines: dict[int, tuple[int, cst.CSTNode]] | None = None,
                 line_of: Callable[[cst.CSTNode], int | None] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.carried_lines = carried_lines
        self.line_of = line_of
        instances = [rule(ctx) for rule in rules]
        self.visits: dict[str, list[tuple[str, Callable]]] = {}
        self.leaves: dict[str, list[tuple[str, Callable]]] = {}
        for rule in instances:
            for attr in dir(rule):
                if attr.startswith("visit_"):
                    self.visits.setdefault(attr[6:], []).append((rule.code, getattr(rule, attr)))
                elif attr.startswith("leave_"):
                    self.leaves.setdefault(attr[6:], []).append((rule.code, getattr(rule, attr)))

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.ctx.enter(node)
        for code, visit in self.visits.get(type(node).__name__, ()):
            if not self.ctx.is_suppressed(code):
                visit(node)
        return True

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):  # type: ignore[override]
        for code, leave in self.leaves.get(type(original).__name__, ()):
            if not self.ctx.is_suppressed(code):
                updated = leave(original, updated)
        updated = self.ctx.leave(original, updated)
        if self.carried_lines is not None and isinstance(original, _LINE_CARRIERS) and isinstance(
                updated, cst.CSTNode):
            line = self.line_of(original) if self.line_of else None
            if line is not None:
                self.carried_lines[id(updated)] = (line, updated)
        return updated


@dataclass
class _Pending:
    """A file between the local pass and the colouring pass."""

    source: SourceFile
    ix: ModuleIndex
    tree: cst.Module
    codemod_context: CodemodContext
    findings: list[Finding]
    lines: dict[int, tuple[int, cst.CSTNode]] = field(default_factory=dict)


def _local_pass(source: SourceFile, ix: ModuleIndex, plan: Plan, config: Config
                ) -> tuple[_Pending, set[str]]:
    module = cst.parse_module(source.text)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def line_of(node: cst.CSTNode) -> int | None:
        pos = positions.get(node)
        return pos.start.line if pos else None

    codemod_context = CodemodContext(filename=source.path, full_module_name=ix.module or None)
    ctx = Context(plan, ix, line_of, codemod_context, async_target=config.target == "async")
    pending = _Pending(source, ix, module, codemod_context, ctx.findings)
    pending.tree = module.visit(_RulePass(ctx, config.rules(LOCAL), pending.lines, line_of))
    return pending, ctx.io_scopes


def _colouring_pass(pending: _Pending, plan: Plan, config: Config,
                    async_functions: set[FunctionRef], blocked: dict) -> str:
    def line_of(node: cst.CSTNode) -> int | None:
        carried = pending.lines.get(id(node))
        return carried[0] if carried else None

    ctx = Context(plan, pending.ix, line_of, pending.codemod_context,
                  async_target=config.target == "async")
    ctx.async_functions = async_functions
    ctx.blocked_calls = blocked
    tree = pending.tree.visit(_RulePass(ctx, config.rules(COLOURING)))
    pending.findings.extend(ctx.findings)
    scratch = pending.codemod_context.scratch
    if scratch.get(AddImportsVisitor.CONTEXT_KEY):
        tree = AddImportsVisitor(pending.codemod_context).transform_module(tree)
    if scratch.get(RemoveImportsVisitor.CONTEXT_KEY):
        tree = RemoveImportsVisitor(pending.codemod_context).transform_module(tree)
    return tree.code


def _verify(result: FileResult) -> None:
    """Only text that parses and compiles may leave the engine."""
    if not result.changed:
        return
    try:
        compile(result.new_source, result.path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        result.error = (f"internal error: the rewrite produced code that does not compile "
                        f"({exc.msg}, output line {exc.lineno}); the file was left unchanged")
        result.error_line = exc.lineno
        result.new_source = result.old_source


def migrate_sources(sources: Iterable[SourceFile], config: Config | None = None,
                    context_sources: Iterable[SourceFile] = ()) -> list[FileResult]:
    """Migrate files as one project. `context_sources` are indexed (for imports, mapped
    classes, call sites) but not rewritten."""
    config = config or Config()
    results: list[FileResult] = []
    indexed: list[tuple[SourceFile, ModuleIndex, FileResult]] = []
    context_indexes: list[ModuleIndex] = []
    for source in sources:
        result = source.new_result()
        results.append(result)
        if result.error is not None or result.skipped_reason is not None:
            continue
        try:
            ix = index_source(source.text, source.path)
        except SyntaxError as exc:
            result.error = f"syntax error: {exc.msg}"
            result.error_line = exc.lineno
            continue
        except ValueError as exc:  # e.g. NUL bytes
            result.error = f"cannot parse: {exc}"
            continue
        indexed.append((source, ix, result))
    for source in context_sources:
        try:
            context_indexes.append(index_source(source.text, source.path))
        except (SyntaxError, ValueError):
            continue
    plan = Plan.build([ix for _, ix, _ in indexed] + context_indexes)

    pendings: list[tuple[_Pending, FileResult]] = []
    io: set[FunctionRef] = set()
    for source, ix, result in indexed:
        if not source.may_need_work:
            continue
        try:
            pending, io_scopes = _local_pass(source, ix, plan, config)
        except cst.ParserSyntaxError as exc:
            result.error = f"syntax error: {exc.message}"
            result.error_line = exc.raw_line
            continue
        io |= {(ix.module, scope) for scope in io_scopes if scope in ix.functions}
        pendings.append((pending, result))
    async_functions, blocked = plan.colour(io)
    touched_modules = {module for module, _ in async_functions}
    for source, ix, result in indexed:
        if not source.may_need_work and ix.module in touched_modules:
            pending, _ = _local_pass(source, ix, plan, config)
            pendings.append((pending, result))
    for pending, result in pendings:
        result.new_source = _colouring_pass(pending, plan, config, async_functions, blocked)
        result.findings = sorted(pending.findings)
        _verify(result)
    return results


def migrate_source(source: str, path: str = "<string>", config: Config | None = None
                   ) -> FileResult:
    """Migrate one module given as text (the library's simplest entry point)."""
    return migrate_sources([SourceFile.from_text(path, source)], config)[0]
