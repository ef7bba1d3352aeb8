"""The per-file passes: the local pass, the colouring pass, the audit, finishing and verifying
a file.

`FileRewriter` runs them for a share of the files (in this process or in a worker),
keeping each file's tree between the local pass and the colouring pass; the run state it
works under always comes from the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

import libcst as cst

from .analysis import ASYNC_SPECIAL_METHODS, FunctionRef, Plan, RunState
from .analysis.project import scope_chain
from .config import Config
from .deep import compile_as_python_would, retry_deep
from .index import ModuleIndex
from .plan_questions import (
    STAGE_COLOUR,
    STAGE_LOCAL,
    STAGE_REDO,
    Asking,
    Questions,
    Recorder,
)
from .results import FileResult, Kind
from .rewrite import imports, scripts
from .rewrite.context import STATEMENT_TYPES, Context, PendingFinding
from .rewrite.imports import ImportChanges
from .rewrite.parts import ReadModule, read_module
from .rewrite.traversal import TRIVIA, Transformer
from .rules import Rule, select_rules
from .rules.base import AUDIT, COLOURING, LOCAL, AuditRule
from .rules.sqa302_pytest import HOOKS_RENAMED
from .rules.sqa305_sync_boundary import impl_scope
from .sources import SourceFile, fit_encoding
from .todo import is_suppressed

# Node types whose original line is carried from the local pass to the colouring pass.
_LINE_CARRIERS = STATEMENT_TYPES | {cst.Call}

_Hooks = tuple[tuple[str, Callable], ...]  # (rule code, hook) in the rules' order


class RulePass(Transformer):
    """One traversal that gives every node to each rule in order (Fixit-style dispatch)."""

    skipped = TRIVIA  # (its on_visit / on_leave would do nothing for them)

    def __init__(self, ctx: Context, rules: list[type[Rule]], relevant: set[str],
                 origins: dict[int, tuple[cst.CSTNode, cst.CSTNode]] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.relevant = relevant  # function/class scopes worth entering (see Plan)
        self.origins = origins
        self.visits: dict[str, list[tuple[str, Callable]]] = {}
        self.leaves: dict[str, list[tuple[str, Callable]]] = {}
        # `suppressed_<Node>`: what a rule says where a suppression keeps it away (a TODO
        # where the code other rules wrote there does not work without it)
        self.suppressed: dict[str, list[tuple[str, Callable]]] = {}
        for rule in (rule_class(ctx) for rule_class in rules):
            for attr in dir(rule):
                if attr.startswith("suppressed_"):
                    self.suppressed.setdefault(attr[11:], []).append(
                        (rule.code, getattr(rule, attr)))
                elif attr.startswith("visit_"):
                    self.visits.setdefault(attr[6:], []).append((rule.code, getattr(rule, attr)))
                elif attr.startswith("leave_"):
                    self.leaves.setdefault(attr[6:], []).append((rule.code, getattr(rule, attr)))

        # node type → its (visits, leaves, held-back hooks), made on first meeting the type:
        # these hooks run for every node of the pass, so each costs one look-up
        self._hooks: dict[type[cst.CSTNode], tuple[_Hooks, _Hooks, _Hooks]] = {}

    def _hooks_of(self, kind: type[cst.CSTNode]) -> tuple[_Hooks, _Hooks, _Hooks]:
        name = kind.__name__
        found = self._hooks[kind] = (tuple(self.visits.get(name, ())),
                                     tuple(self.leaves.get(name, ())),
                                     tuple(self.suppressed.get(name, ())))
        return found

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)
        ctx = self.ctx
        ctx.enter(node)
        visits = (self._hooks.get(kind) or self._hooks_of(kind))[0]
        if visits:
            codes = ctx.suppressed_here()  # (a hook does not enter or leave statements)
            for code, visit in visits:
                if not codes or not is_suppressed(code, codes):
                    visit(node)
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            return ctx.scope in self.relevant
        return True

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):  # type: ignore[override]
        kind = type(original)
        _, leaves, held_back_hooks = self._hooks.get(kind) or self._hooks_of(kind)
        if leaves or held_back_hooks:
            codes = self.ctx.suppressed_here()
            for code, leave in leaves:
                if not codes or not is_suppressed(code, codes):
                    updated = leave(original, updated)
            if codes:
                for code, held_back in held_back_hooks:
                    if is_suppressed(code, codes):
                        held_back(original, updated)
        updated = self.ctx.leave(original, updated)
        if self.origins is not None and kind in _LINE_CARRIERS:
            # The next pass sees `updated`; remember which original node it stands for (each
            # statement a rule made of one, `x.commit()` + `x.refresh(obj)`, stands for it:
            # they move or stay with it, SQA307).
            for node in updated.nodes if type(updated) is cst.FlattenSentinel else (
                    [updated] if isinstance(updated, cst.CSTNode) else []):
                self.origins[id(node)] = (original, node)
        return updated


@dataclass
class Job:
    """One file for the per-file passes; `rewrite=False`: outside the selection. `parsed`:
    its tree when the engine already parsed it (a context file it looked for legacy I/O)."""

    source: SourceFile
    ix: ModuleIndex
    result: FileResult
    rewrite: bool = True
    parsed: ReadModule | None = None


@dataclass
class Pending:
    """A file between the local pass and the colouring pass."""

    source: SourceFile
    ix: ModuleIndex
    read: ReadModule  # the file as read: its tree, its statements' lines and texts
    tree: cst.Module
    imports: ImportChanges
    findings: list[PendingFinding]
    io_scopes: set[str]  # scopes where the local pass made I/O awaited
    renamed: dict[str, str]  # imported names it replaced: old local name -> new local name
    unconverted_scopes: dict[str, str]  # scopes where it left legacy code → why
    config: Config  # this module's (`module_config`)
    origins: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = field(default_factory=dict)
    # top-level statements the local pass let await: they may move into an entry point
    entry: scripts.EntryPoint | None = None
    entry_function: str | None = None  # what the colouring pass moved them into
    # the same for the colouring pass: its output node → the local pass's node it stands for
    coloured: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = field(default_factory=dict)

    @property
    def original(self) -> cst.Module:
        return self.read.module

    def lines(self) -> dict[int, int]:
        """`id(statement) -> line` for the statements of the file as read."""
        return self.read.lines()


@dataclass(frozen=True)
class LocalOutcome:
    """What the local pass did with one file: its result when it failed, the functions it
    made do awaited I/O, the functions where it left legacy code and the imported names it
    replaced (module, old local name, new local name)."""

    path: str
    failed: FileResult | None
    made_async: frozenset[FunctionRef]
    unconverted: frozenset[tuple[FunctionRef, str]]  # (function, why legacy code stays)
    renamed: frozenset[tuple[str, str, str]] = frozenset()
    # what it asked the plan (when the run notes it for the cache)
    questions: Questions | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Coloured:
    """A file's final result, and what its last stage asked the plan."""

    path: str
    result: FileResult
    questions: Questions | None = field(default=None, compare=False)


def module_config(ix: ModuleIndex, plan: Plan, config: Config) -> Config:
    """The configuration for one module: under the async target, a module that must stay
    synchronous (Alembic's env.py; one handing its session to code that cannot await) is
    migrated as with `--target sync`."""
    if config.target == "async" and (reason := plan.stays_sync(ix.module)):
        return replace(config, target="sync", kept_sync=reason)
    return config


def local_pass(job: Job, plan: Plan, config: Config) -> Pending:
    """Parse and apply the local rules (none for a file outside the selection: it only gets
    the colouring pass, but needs the same bookkeeping).

    A query variable converted to select() where one of its uses cannot be would leave that
    use running a legacy method on a select(): the pass is then redone with the variable
    kept a legacy Query (a few rounds at most: each one keeps more variables legacy)."""
    config = module_config(job.ix, plan, config)
    read = job.parsed or read_module(job.source.text)
    legacy_variables: dict[tuple[str, str], str] = {}
    while True:
        pending, broken = _local_rules(job, plan, config, read, legacy_variables)
        if broken.keys() <= legacy_variables.keys():
            return pending
        legacy_variables = legacy_variables | broken


def _local_rules(job: Job, plan: Plan, config: Config, read: ReadModule,
                 legacy_variables: dict[tuple[str, str], str]
                 ) -> tuple[Pending, dict[tuple[str, str], str]]:
    changes = ImportChanges()
    ctx = Context(plan, job.ix, lambda node: node, changes, config)
    ctx.legacy_variables = legacy_variables
    module = read.module
    pending = Pending(job.source, job.ix, read, module, changes, ctx.findings,
                      ctx.io_scopes, ctx.renamed, ctx.unconverted_scopes, config)
    if job.rewrite and any(r.code == scripts.RULE for r in select_rules(config, COLOURING)):
        ctx.entry = pending.entry = scripts.candidates(module, plan, job.ix)
    if job.rewrite:
        rules = select_rules(config, LOCAL)
        scopes = plan.relevant_scopes(job.ix) | rule_scopes(job.ix, plan, config)
    else:
        rules = context_rules(job.ix, plan, config)
        scopes = rule_scopes(job.ix, plan, config, rules)
    rule_pass = RulePass(ctx, rules, scopes, pending.origins)
    pending.tree = rule_pass.transform(module)
    return pending, ctx.broken_variables


# Packages whose names a local rule may act on in module-level code that the plan's scopes do
# not show (an import it renames, a call it rewrites, a test fixture, a mock): a module
# importing any of them always gets the local pass. Any package whose name holds "alchemy"
# counts too.
_API_PACKAGES = frozenset({
    "sqlmodel", "alembic", "fastapi", "starlette", "flask", "pyramid", "zope", "pytest",
    "pytest_asyncio", "unittest", "asyncio", "celery", "rq", "click", "typer", "databases",
    "greenlet", "aiosqlite", "asyncpg", "psycopg", "psycopg2", "pymysql", "aiomysql",
})

# Off only in the test proving that the files it skips come out of the run unchanged.
SKIP_UNPLANNED = True


def local_pass_can_act(ix: ModuleIndex, plan: Plan, config: Config) -> bool:
    """Whether the local pass can change this module, from the index alone (the plan): it
    enters only the scopes `relevant_scopes` and the rules' `local_scopes` name, so a module
    with none of them, no database URL and no import of a database or framework API has only
    module-level code that names nothing a local rule acts on. Such a module is not parsed by
    libcst for the local pass; the colouring stage still takes it when it calls code that
    became async, or the audit can find something in it."""
    if not SKIP_UNPLANNED:
        return True
    if ix.url_scopes or ix.url_dialects or ix.url_names:
        return True
    for qualified in ix.imports.values():
        head = qualified.partition(".")[0]
        if head in _API_PACKAGES or "alchemy" in head:
            return True
    config = module_config(ix, plan, config)
    return bool(plan.relevant_scopes(ix) or rule_scopes(ix, plan, config))


def rule_scopes(ix: ModuleIndex, plan: Plan, config: Config,
                rules: list[type[Rule]] | None = None) -> set[str]:
    """Scopes of the module the local rules (`rules`, default: all) ask to enter beyond the
    plan's relevant ones (`config`: the module's), with the scopes around them."""
    found = set().union(*(rule.local_scopes(ix, plan, config)
                          for rule in (select_rules(config, LOCAL) if rules is None else rules)))
    return {s for scope in found for s in scope_chain(scope)}


def context_rules(ix: ModuleIndex, plan: Plan, config: Config) -> list[type[Rule]]:
    """The local rules that edit this file outside the selection (see `Rule.in_context`)."""
    config = module_config(ix, plan, config)
    return [rule for rule in select_rules(config, LOCAL)
            if rule.in_context and rule.local_scopes(ix, plan, config)]


def needs_colouring(ix: ModuleIndex, plan: Plan, async_functions: frozenset[FunctionRef]
                    ) -> bool:
    """The module defines a function that became async, or calls one."""
    return plan.defines_any(ix, async_functions) or any(
        plan.calls_into(ix, site, async_functions) for site in ix.calls)


def _original(pending: Pending, node: cst.CSTNode) -> cst.CSTNode | None:
    """The node of the file as read that a node of the local or colouring pass stands for (a
    statement no earlier pass entered is still the one read)."""
    coloured = pending.coloured.get(id(node))
    node = coloured[0] if coloured else node
    carried = pending.origins.get(id(node))
    if carried is not None:
        return carried[0]
    return node if id(node) in pending.lines() else None


def colouring_pass(pending: Pending, plan: Plan) -> cst.Module:
    config = pending.config
    ctx = Context(plan, pending.ix, lambda node: _original(pending, node), pending.imports,
                  config)
    if pending.entry is not None and pending.entry.moving:
        ctx.entry = scripts.decide(pending.tree, plan, pending.ix, pending.imports)
    if not needs_colouring(pending.ix, plan, plan.async_functions) and not (
            ctx.entry and ctx.entry.moving):
        return pending.tree
    relevant = plan.relevant_scopes(pending.ix, plan.async_functions)
    tree = RulePass(ctx, select_rules(config, COLOURING), relevant,
                    pending.coloured).transform(pending.tree)
    pending.findings.extend(ctx.findings)
    pending.entry_function = ctx.entry_function
    return tree


def audit_rules(config: Config) -> list[type[AuditRule]]:
    return [r for r in select_rules(config, AUDIT) if issubclass(r, AuditRule)]


def audit_scopes(ix: ModuleIndex, plan: Plan, rules: list[type[AuditRule]]) -> set[str]:
    """Where in the module the audit can find something (from the index)."""
    return set().union(*(rule.scopes(ix, plan) for rule in rules))


def audit_finds_in_original(ix: ModuleIndex, plan: Plan, rules: list[type[AuditRule]]
                            ) -> bool:
    """The audit can find something in a module left as it was read (see
    `AuditRule.finds_in_original`)."""
    return any(rule.finds_in_original(ix, plan) for rule in rules)


def audit_pass(pending: Pending, tree: cst.Module, plan: Plan, rewrite: bool
               ) -> cst.Module:
    """The audit rules over the final tree, where they can find something: a file of the
    selection, or a context file the colouring changed."""
    if not rewrite and not any(f.kind is Kind.CHANGE for f in pending.findings):
        return tree
    config = pending.config
    rules = audit_rules(config)
    found = audit_scopes(pending.ix, plan, rules)
    if not found:
        return tree
    relevant = {s for scope in found for s in scope_chain(scope)}  # and the scopes around
    # the body of a sync callback moved into its `async def` (SQA305)
    relevant |= {impl_scope(s) for s in relevant if s}
    relevant |= {_renamed(s) for s in relevant}  # `__enter__` became `__aenter__`
    ctx = Context(plan, pending.ix, lambda node: _original(pending, node), pending.imports,
                  config, earlier=pending.findings)
    ctx.moved_into = pending.entry_function  # module-level code moved there (SQA307)
    tree = RulePass(ctx, rules, relevant).transform(tree)
    pending.findings.extend(ctx.findings)
    return tree


# methods renamed once async: `__enter__` → `__aenter__`, unittest's `setUp` → `asyncSetUp`
_RENAMED_WHEN_ASYNC = {**ASYNC_SPECIAL_METHODS, **HOOKS_RENAMED}


def _renamed(scope: str) -> str:
    return ".".join(_RENAMED_WHEN_ASYNC.get(part, part) for part in scope.split("."))


def finish(pending: Pending, tree: cst.Module, result: FileResult) -> None:
    """Imports, line numbers of the findings, and the new text."""
    if not pending.findings and not pending.imports:
        return  # no rule acted: the text is the text as read (no code generation)
    # a file in `# coding: ascii` or latin-1 gets its TODO markers' arrows in ASCII
    result.new_source = fit_encoding(imports.apply(tree, pending.imports, pending.read.texts()),
                                     result.encoding)
    if pending.findings:
        lines = pending.lines()
        result.findings = sorted(f.at(lines.get(id(f.anchor), 0))
                                 for f in pending.findings)


def verify(result: FileResult) -> None:
    """Only text that parses and compiles (for the user's Python) may leave the engine."""
    if not result.changed:
        return
    try:
        compile_as_python_would(result.new_source, result.path)
    except SyntaxError as exc:
        does_not_compile(result, exc)
    except RecursionError:
        result.error = ("the migrated code would be nested too deeply for Python to compile; "
                        "the file was left unchanged")
        result.new_source = result.old_source


def _compile_error(source: str, path: str) -> SyntaxError | None:
    try:
        compile_as_python_would(source, path)
    except SyntaxError as exc:
        return exc
    except RecursionError:
        pass
    return None


def does_not_compile(result: FileResult, exc: SyntaxError) -> None:
    original = _compile_error(result.old_source, result.path)
    if original is not None:  # Python parses it but refuses to compile it: 'return' outside def
        result.error = (f"the file does not compile as it is ({original.msg}, line "
                        f"{original.lineno}); the file was left unchanged")
        result.error_line = original.lineno
    else:
        result.error = (f"internal error: the rewrite produced code that does not compile "
                        f"({exc.msg}, output line {exc.lineno}); the file was left unchanged")
        result.error_line = exc.lineno
    result.new_source = result.old_source


INTERNAL_ERROR = "internal error"  # how the message of a file failed by a bug begins


def internal_error(result: FileResult, exc: Exception) -> None:
    """A bug in a rule fails its file, never the run."""
    result.error = (f"{INTERNAL_ERROR} ({type(exc).__name__}: {exc}); the file was left "
                    "unchanged — please report it")
    result.new_source = result.old_source


class FileRewriter:
    """The per-file passes for a share of the files (a `workers.Rewriter`). With `digests`
    (path → content digest of every indexed module), each file's questions of the plan are
    noted with its outcomes, stage by stage (`plan_questions`), for the cache."""

    def __init__(self, plan: Plan, config: Config,
                 digests: Mapping[str, str] | None = None) -> None:
        self.plan, self.config, self.digests = plan, config, digests
        self.pendings: dict[str, tuple[Pending, FileResult]] = {}
        self.jobs: dict[str, Job] = {}
        self.recorders: dict[str, Recorder] = {}

    def _asking(self, path: str, stage: str, begin: bool = True
                ) -> tuple[Plan, Questions | None]:
        """The plan a file's pass asks in `stage` (noting its questions when asked to)."""
        if self.digests is None:
            return self.plan, None
        recorder = self.recorders.setdefault(path, Recorder(self.digests))
        questions = recorder.begin() if begin else recorder.questions
        return Asking(self.plan, recorder, stage), questions  # type: ignore[return-value]

    def local(self, jobs: Iterable[Job], stage: str = STAGE_LOCAL) -> Iterator[LocalOutcome]:
        for job in jobs:
            result = job.result
            self.jobs[result.path] = job
            plan, questions = self._asking(result.path, stage)
            try:
                pending = retry_deep(local_pass, job, plan, self.config)
            except cst.ParserSyntaxError as exc:
                result.error = f"syntax error: {exc.message}"
                result.error_line = exc.raw_line
            except Exception as exc:  # noqa: BLE001 - reported as the file's failure
                internal_error(result, exc)
            if result.error is not None:
                yield LocalOutcome(result.path, result, frozenset(), frozenset(),
                                   questions=questions)
                continue
            self.pendings[result.path] = (pending, result)
            module = job.ix.module
            yield LocalOutcome(
                result.path, None,
                frozenset((module, s) for s in pending.io_scopes if s in job.ix.functions),
                frozenset(((module, s), why) for s, why in pending.unconverted_scopes.items()),
                frozenset((module, old, new) for old, new in pending.renamed.items()),
                questions)

    def redo(self, state: RunState, paths: set[str]) -> Iterator[LocalOutcome]:
        """The local pass again for `paths`, under a state keeping more functions sync."""
        self.plan = self.plan.with_state(state)
        jobs = [self.jobs[p] for p in paths if p in self.pendings]
        for job in jobs:
            self.pendings.pop(job.result.path)
            job.result.findings = []
        yield from self.local(jobs, STAGE_REDO)

    def colour(self, state: RunState, late: Iterable[Job]) -> Iterator[Coloured]:
        """The colouring pass and the final text under `state` (which says what became
        async), also for `late` files (which only call code that became async)."""
        self.plan = self.plan.with_state(state)
        late_paths = set()
        for outcome in self.local(late, STAGE_COLOUR):
            late_paths.add(outcome.path)
            if outcome.failed is not None:
                yield Coloured(outcome.path, outcome.failed, outcome.questions)
        while self.pendings:
            pending, result = self.pendings.pop(next(iter(self.pendings)))
            # a late file's questions in this stage began with its local pass
            plan, questions = self._asking(result.path, STAGE_COLOUR,
                                           begin=result.path not in late_paths)
            try:
                retry_deep(self._final, pending, result, len(pending.findings), plan)
                # its trees are freed before the new text is compiled: for a big module,
                # compiling beside them set the run's peak memory
                del pending
                verify(result)
            except SyntaxError as exc:  # the new text, parsed to place imports
                does_not_compile(result, exc)
            except Exception as exc:  # noqa: BLE001 - reported as the file's failure
                internal_error(result, exc)
            yield Coloured(result.path, result, questions)

    def _final(self, pending: Pending, result: FileResult, local_findings: int,
               plan: Plan) -> None:
        """The colouring pass, the audit and the new text (again from the local pass's
        output when a first try reached the recursion limit)."""
        del pending.findings[local_findings:]
        pending.coloured.clear()
        tree = colouring_pass(pending, plan)
        tree = audit_pass(pending, tree, plan, self.jobs[result.path].rewrite)
        finish(pending, tree, result)
