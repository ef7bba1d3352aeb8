"""Runs the rules over files: index → plan → local pass → colouring → colouring pass → verify.

Every file's outcome is a `FileResult` value; one bad file never stops the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from . import workers
from .analysis import FunctionRef, Plan
from .config import Config
from .index import ModuleIndex
from .index.cache import index_all
from .results import FileResult
from .rewrite import imports
from .rewrite.context import STATEMENT_TYPES, Context, PendingFinding
from .rewrite.imports import ImportChanges
from .rewrite.lines import statement_lines
from .rules import Rule, select_rules
from .rules.base import COLOURING, LOCAL
from .sources import SourceFile

# Node types whose original line is carried from the local pass to the colouring pass.
_LINE_CARRIERS = STATEMENT_TYPES | {cst.Call}


class _RulePass(cst.CSTTransformer):
    """One traversal that gives every node to each rule in order (Fixit-style dispatch)."""

    def __init__(self, ctx: Context, rules: list[type[Rule]], relevant: set[str],
                 origins: dict[int, tuple[cst.CSTNode, cst.CSTNode]] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.relevant = relevant  # function/class scopes worth entering (see Plan)
        self.origins = origins
        self.visits: dict[str, list[tuple[str, Callable]]] = {}
        self.leaves: dict[str, list[tuple[str, Callable]]] = {}
        for rule in (rule_class(ctx) for rule_class in rules):
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
        kind = type(node)
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            return self.ctx.scope in self.relevant
        return True

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):  # type: ignore[override]
        for code, leave in self.leaves.get(type(original).__name__, ()):
            if not self.ctx.is_suppressed(code):
                updated = leave(original, updated)
        updated = self.ctx.leave(original, updated)
        if self.origins is not None and type(original) in _LINE_CARRIERS and isinstance(
                updated, cst.CSTNode):
            # The next pass sees `updated`; remember which original node it stands for.
            self.origins[id(updated)] = (original, updated)
        return updated


@dataclass
class _Pending:
    """A file between the local pass and the colouring pass."""

    source: SourceFile
    ix: ModuleIndex
    original: cst.Module
    tree: cst.Module
    imports: ImportChanges
    findings: list[PendingFinding]
    origins: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = field(default_factory=dict)


def _local_pass(source: SourceFile, ix: ModuleIndex, plan: Plan, config: Config,
                rewrite: bool = True) -> tuple[_Pending, set[str], set[str]]:
    """Parse and apply the local rules (none with `rewrite=False`: a file outside the
    selection only gets the colouring pass, but needs the same bookkeeping)."""
    module = cst.parse_module(source.text)
    imports = ImportChanges()
    ctx = Context(plan, ix, lambda node: node, imports, config)
    pending = _Pending(source, ix, module, module, imports, ctx.findings)
    rule_pass = _RulePass(ctx, select_rules(config, LOCAL) if rewrite else [],
                          plan.relevant_scopes(ix) if rewrite else set(), pending.origins)
    pending.tree = module.visit(rule_pass)
    return pending, ctx.io_scopes, ctx.unconverted_scopes


def _needs_colouring(ix: ModuleIndex, plan: Plan, async_functions: set[FunctionRef]) -> bool:
    """The module defines a function that became async, or calls one."""
    return plan.defines_any(ix, async_functions) or any(
        plan.calls_into(ix, site, async_functions) for site in ix.calls)


def _colouring_pass(pending: _Pending, plan: Plan, config: Config,
                    async_functions: set[FunctionRef]) -> cst.Module:
    def origin(node: cst.CSTNode) -> cst.CSTNode | None:
        carried = pending.origins.get(id(node))
        return carried[0] if carried else None

    ctx = Context(plan, pending.ix, origin, pending.imports,
                  config)
    ctx.async_functions = async_functions
    if not _needs_colouring(pending.ix, plan, async_functions):
        return pending.tree
    relevant = plan.relevant_scopes(pending.ix, async_functions)
    tree = pending.tree.visit(_RulePass(ctx, select_rules(config, COLOURING), relevant))
    pending.findings.extend(ctx.findings)
    return tree


def _finish(pending: _Pending, tree: cst.Module, result: FileResult) -> None:
    """Imports, line numbers of the findings, and the new text."""
    if not pending.findings and not pending.imports:
        return  # no rule acted: the text is the text as read (no code generation)
    tree = imports.apply(tree, pending.imports)
    result.new_source = tree.code
    if pending.findings:
        lines = statement_lines(pending.original, pending.source.text)
        result.findings = sorted(f.at(lines.get(id(f.anchor), 0))
                                 for f in pending.findings)


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


def _internal_error(result: FileResult, exc: Exception) -> None:
    """A bug in a rule fails its file, never the run."""
    result.error = (f"internal error ({type(exc).__name__}: {exc}); the file was left "
                    "unchanged — please report it")
    result.new_source = result.old_source


def _reached_modules(plan: Plan, selected: list[ModuleIndex],
                     context: list[ModuleIndex]) -> set[str]:
    """Context modules holding functions that selected code calls, directly or through
    other context functions."""
    context_modules = {ix.module: ix for ix in context}
    calls_by_scope: dict[FunctionRef, list] = {}
    for ix in context:
        for site in ix.calls:
            calls_by_scope.setdefault((ix.module, site.scope), []).append(site)
    todo = [ref for ix in selected for site in ix.calls
            if (ref := plan.resolve_function(ix, site.scope, site.callee))
            and ref[0] in context_modules]
    seen: set[FunctionRef] = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        ix = context_modules[ref[0]]
        for site in calls_by_scope.get(ref, []):
            target = plan.resolve_function(ix, site.scope, site.callee)
            if target and target[0] in context_modules:
                todo.append(target)
    return {module for module, _ in seen}


@dataclass
class _Job:
    """One file for the per-file passes; `rewrite=False`: outside the selection."""

    source: SourceFile
    ix: ModuleIndex
    result: FileResult
    rewrite: bool = True


class _Rewriter:
    """Runs the per-file passes for a share of the files, keeping each file's tree between
    the local pass and the colouring pass (in this process or in a worker)."""

    def __init__(self, plan: Plan, config: Config) -> None:
        self.plan, self.config = plan, config
        self.pendings: dict[str, tuple[_Pending, FileResult]] = {}
        self.jobs: dict[str, _Job] = {}

    def local(self, jobs: Iterable[_Job]) -> Iterator[tuple[FileResult | None, set, set, str]]:
        """Per file: (its result if it failed, else None; functions it made await; functions
        where it left legacy code; path)."""
        for job in jobs:
            result = job.result
            self.jobs[result.path] = job
            try:
                pending, io_scopes, unconverted = _local_pass(job.source, job.ix, self.plan,
                                                              self.config, job.rewrite)
            except cst.ParserSyntaxError as exc:
                result.error = f"syntax error: {exc.message}"
                result.error_line = exc.raw_line
            except Exception as exc:  # noqa: BLE001 - reported as the file's failure
                _internal_error(result, exc)
            if result.error is not None:
                yield result, set(), set(), result.path
                continue
            self.pendings[result.path] = (pending, result)
            refs = {(job.ix.module, s) for s in io_scopes if s in job.ix.functions}
            yield None, refs, {(job.ix.module, s) for s in unconverted}, result.path

    def redo(self, keep_sync: set[FunctionRef], paths: set[str]
             ) -> Iterator[tuple[FileResult | None, set, set, str]]:
        """The local pass again for `paths`, now that `keep_sync` functions stay sync."""
        self.plan.keep_sync |= keep_sync
        self.plan.legacy |= keep_sync
        jobs = [self.jobs[p] for p in paths if p in self.pendings]
        for job in jobs:
            self.pendings.pop(job.result.path)
            job.result.findings = []
        yield from self.local(jobs)

    def colour(self, async_functions: set[FunctionRef],
               late: Iterable[_Job]) -> Iterator[FileResult]:
        """The colouring pass and the final text, also for `late` files (which only call
        code that became async)."""
        for failed, *_ in self.local(late):
            if failed is not None:
                yield failed
        for pending, result in self.pendings.values():
            try:
                tree = _colouring_pass(pending, self.plan, self.config, async_functions)
                _finish(pending, tree, result)
                _verify(result)
            except Exception as exc:  # noqa: BLE001 - reported as the file's failure
                _internal_error(result, exc)
            yield result
        self.pendings = {}


def iter_migrate(sources: Iterable[SourceFile], config: Config | None = None,
                 context_sources: Iterable[SourceFile] = (),
                 progress: Callable[[str], None] | None = None) -> Iterator[FileResult]:
    """Migrate files as one project, yielding each file's result as soon as it is final.

    `context_sources` are the rest of the project (an incremental run): they are indexed,
    their own database code stays as it is (legacy, called through `run_sync` from migrated
    code), and they change only where they call functions that became async. A context file
    is yielded only when it changes. `progress` is called with a path each time a stage
    finishes with a file. With `config.jobs > 1` the per-file passes run in that many
    worker processes.
    """
    config = config or Config()
    tick = progress or (lambda path: None)
    sources, context_sources = list(sources), list(context_sources)
    selected: list[_Job] = []
    indexes = index_all([s for s in [*sources, *context_sources] if s.error is None],
                        config.jobs, Path(config.cache_dir) if config.cache_dir else None)
    for source in sources:
        result = source.new_result()
        ix = _indexed(source, result, indexes)
        if ix is None:
            tick(result.path)
            yield result
        else:
            selected.append(_Job(source, ix, result))
    context = [_Job(source, ix, result, rewrite=False) for source in context_sources
               for result in [source.new_result()]
               for ix in [_indexed(source, result, indexes)] if ix]
    plan = Plan.build(job.ix for job in [*selected, *context])
    plan.context = {job.ix.module for job in context}
    plan.console_scripts = {(module, function) for module, _, function in (
        script.partition(":") for script in config.console_scripts)}

    # What the rest of the project does with its own (sync) sessions: legacy functions. Only
    # the modules the selection reaches through calls are parsed to find out.
    reached = _reached_modules(plan, [j.ix for j in selected], [j.ix for j in context])
    legacy_io: set[FunctionRef] = set()
    for job in context:
        if job.source.may_need_work and job.ix.module in reached:
            with contextlib.suppress(Exception):  # only a hint; the file is not rewritten
                legacy_io |= {(job.ix.module, s) for s in _local_pass(
                    job.source, job.ix, plan, config)[1] if s in job.ix.functions}
    plan.legacy = plan.colour(legacy_io, within={j.ix.module for j in context})

    first = [job for job in selected
             if job.source.may_need_work or plan.model_parameter_scopes(job.ix)]
    rewritten = {job.result.path for job in first}
    rest = [job for job in [*selected, *context]
            if job.result.path not in rewritten or not job.rewrite]

    def late(async_functions: set[FunctionRef]) -> list[_Job]:
        """Files not rewritten locally that call code which became async."""
        return [job for job in rest if _needs_colouring(job.ix, plan, async_functions)]

    selected_paths = {job.result.path for job in selected}
    done: set[str] = set()
    for result in workers.rewrite(_Rewriter, plan, config, first, late, tick):
        done.add(result.path)
        if result.path in selected_paths or result.error is not None or result.changed:
            yield result
    for job in selected:
        if job.result.path not in done:  # nothing to do in it
            tick(job.result.path)
            yield job.result


def _indexed(source: SourceFile, result: FileResult,
             indexes: dict[str, ModuleIndex | tuple[str, int | None]]) -> ModuleIndex | None:
    if result.error is not None:
        return None
    found = indexes.get(source.path)
    if isinstance(found, tuple):
        result.error, result.error_line = found
        return None
    return found


def migrate_sources(sources: Iterable[SourceFile], config: Config | None = None,
                    context_sources: Iterable[SourceFile] = ()) -> list[FileResult]:
    """Migrate files as one project; results in the order of `sources`."""
    sources = list(sources)
    done = {r.path: r for r in iter_migrate(sources, config, context_sources)}
    return [done[s.path] for s in sources]


def migrate_source(source: str, path: str = "<string>", config: Config | None = None
                   ) -> FileResult:
    """Migrate one module given as text (the library's simplest entry point)."""
    return migrate_sources([SourceFile.from_text(path, source)], config)[0]
