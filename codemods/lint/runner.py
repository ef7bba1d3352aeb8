"""Runs the lint rules over files of async code: index → plan → each rule per file (and the
rules that reuse the migration's analysis once over the project) → suppression → selection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from ..analysis import Plan
from ..index import ModuleIndex
from ..index.cache import index_all
from ..results import FileResult
from ..rewrite.context import STATEMENT_TYPES, statement_suppressions
from ..rewrite.parts import parse_module
from ..rewrite.traversal import Visitor
from ..sources import SourceFile
from ..todo import is_suppressed
from .base import LintContext, LintFinding, LintRule


@dataclass(frozen=True)
class LintConfig:
    """What a lint run checks: codes or prefixes selected / ignored, `--strict` rules."""

    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    strict: bool = False
    jobs: int = 1
    cache_dir: str | None = None

    def enables(self, rule: type[LintRule]) -> bool:
        if rule.strict_only and not self.strict:
            return False
        return (not self.select or any(rule.code.startswith(p) for p in self.select)) and not (
            any(rule.code.startswith(p) for p in self.ignore))


@dataclass
class LintRun:
    """A run over a project: the files linted, the rest (read for the index only), its plan;
    rules reusing the migration store the migrated results they fix from in `fixes`."""

    sources: list[SourceFile]
    context: list[SourceFile]
    config: LintConfig
    plan: Plan
    indexes: dict[str, ModuleIndex]
    fixes: dict[str, FileResult] = field(default_factory=dict)


@dataclass
class LintResult:
    """The findings of one file (after suppression and selection), or why it was not read."""

    path: str
    findings: list[LintFinding] = field(default_factory=list)
    error: str | None = None
    error_line: int | None = None
    fixed: FileResult | None = None  # `--fix`: the file with the fixes applied


def lint_sources(sources: Iterable[SourceFile], config: LintConfig | None = None,
                 context_sources: Iterable[SourceFile] = (),
                 rules: Iterable[type[LintRule]] | None = None) -> list[LintResult]:
    """Lint files as one project (`context_sources`: the rest of it, indexed only); results
    in the order of `sources`, findings sorted by position."""
    from . import LINT_RULES  # the registry imports the rule modules, which import this one

    config = config or LintConfig()
    sources, context_sources = list(sources), list(context_sources)
    chosen = [r for r in (rules if rules is not None else LINT_RULES) if config.enables(r)]
    found = index_all([s for s in [*sources, *context_sources] if s.error is None],
                      config.jobs, Path(config.cache_dir) if config.cache_dir else None)
    indexes = {path: ix for path, ix in found.items() if isinstance(ix, ModuleIndex)}
    run = LintRun(sources, context_sources, config, Plan.build(indexes.values()), indexes)
    results: list[LintResult] = []
    texts = {s.path: s.text for s in [*sources, *context_sources]}
    by_path: dict[str, list[LintFinding]] = {}
    fixable = {r.code for r in chosen if r.fixable}
    for rule in chosen:
        for finding in rule().check_project(run):
            by_path.setdefault(finding.path, []).append(finding)
    for source in sources:
        result = LintResult(source.path)
        results.append(result)
        ix = found.get(source.path)
        if source.error is not None or isinstance(ix, tuple):
            result.error, result.error_line = (source.error, source.error_line) if (
                source.error is not None) else ix
            continue
        if ix is None:
            continue
        try:
            ctx = LintContext(source.path, parse_module(source.text), ix, run.plan, texts)
        except cst.ParserSyntaxError as exc:
            result.error, result.error_line = f"cannot parse: {exc.message}", exc.raw_line
            continue
        for rule in chosen:
            rule().check(ctx)
        suppressed = _suppressions(ctx)
        result.findings = sorted(
            f for f in {*ctx.findings, *by_path.get(source.path, ())}
            if not is_suppressed(f.code, suppressed.get(f.line, set())))
        raised = [f for f in by_path.get(source.path, ()) if f.code in fixable]
        kept = [f for f in result.findings if f.code in fixable]
        if len(kept) == len(raised):  # a suppressed finding is not fixed either
            result.fixed = run.fixes.get(source.path)
    return results


class _Suppressions(Visitor):
    """Line → the codes suppressed on the statements spanning it (or around them)."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.lines: dict[int, set[str]] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node) in STATEMENT_TYPES:
            codes = statement_suppressions(node)
            if codes:
                span = self.ctx.positions[node]
                for line in range(span.start.line, span.end.line + 1):
                    self.lines.setdefault(line, set()).update(codes)
        return True


def _suppressions(ctx: LintContext) -> dict[int, set[str]]:
    visitor = _Suppressions(ctx)
    visitor.walk(ctx.module)
    return visitor.lines
