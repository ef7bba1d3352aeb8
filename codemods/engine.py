"""Runs the rules over files: index → plan → local pass → colouring → colouring pass → verify.

Every file's outcome is a `FileResult` value; one bad file never stops the others. This is
the only place the run state changes: each round (the legacy functions of an incremental
run, functions kept sync, the colouring) makes a new `RunState` and the plan for it. With a
cache folder, a file unchanged since an earlier run keeps each stage's outcome whose
questions of that round's plan are answered alike (`_Reuse`, `plan_questions`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

from . import run_cache, workers
from .analysis import FunctionRef, Plan, RunState
from .analysis.sync_modules import ALEMBIC
from .config import Config
from .deep import retry_deep
from .index import ModuleIndex
from .index.cache import index_all
from .passes import (
    INTERNAL_ERROR,
    FileRewriter,
    Job,
    LocalOutcome,
    audit_finds_in_original,
    audit_rules,
    context_rules,
    internal_error,
    local_pass,
    local_pass_can_act,
    module_config,
    needs_colouring,
    rule_scopes,
    verify,
)
from .plan_questions import STAGE_COLOUR, STAGE_LOCAL, STAGE_REDO, Questions, answered_alike
from .results import FileResult
from .rewrite.parts import drop_kept_tree
from .rules import resolve_selection
from .sources import SourceFile
from .stubs import is_stub, migrate_stub, stub_path


def _reached_modules(plan: Plan, selected: list[ModuleIndex],
                     context: list[ModuleIndex]) -> set[str]:
    """Context modules holding functions that selected code calls, directly or through
    other context functions."""
    context_modules = {ix.module: ix for ix in context}
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
        for site in plan.calls_in(ix, ref[1]):
            target = plan.resolve_function(ix, site.scope, site.callee)
            if target and target[0] in context_modules:
                todo.append(target)
    return {module for module, _ in seen}


class _Progress:
    """What the local pass found, per file (a redone file replaces its earlier answer)."""

    def __init__(self, reuse: _Reuse | None) -> None:
        self.outcomes: dict[str, LocalOutcome] = {}
        self.reuse = reuse

    def take(self, answers: Iterable[LocalOutcome | workers.Lost],
             tick: Callable[[str], None], stage: str) -> Iterator[FileResult]:
        """Record a local round's answers; yield the files that failed in it."""
        for answer in answers:
            if isinstance(answer, workers.Lost):
                yield answer.result
                continue
            tick(answer.path)
            self.outcomes[answer.path] = answer
            if self.reuse:
                self.reuse.note(answer.path, stage, answer.questions, answer)
            if answer.failed is not None:
                yield answer.failed

    def made_async(self) -> set[FunctionRef]:
        return set().union(*(o.made_async for o in self.outcomes.values()))

    def unconverted(self) -> dict[FunctionRef, str]:
        """Functions where the local pass left legacy code → why."""
        return {ref: why for o in self.outcomes.values() for ref, why in sorted(o.unconverted)}

    def renamed(self) -> frozenset[tuple[str, str, str]]:
        return frozenset().union(*(o.renamed for o in self.outcomes.values()))


class _Reuse:
    """Per-file reuse (`run_cache.Trace`): the traces earlier runs left, and this run's. An
    unchanged file keeps a stage's outcome when the new plans answer all it asked up to that
    stage alike (`plan_questions`); the shape of its run must be the same too (redone under a
    state keeping more functions sync both times or neither)."""

    def __init__(self, earlier: dict[str, run_cache.Trace]) -> None:
        self.earlier = earlier
        self.contents: dict[str, str] = {}  # path → content digest, of every indexed file
        self.jobs: dict[str, Job] = {}
        self.options = ""
        self.now: dict[str, run_cache.Trace] = {}

    def begin(self, jobs: Iterable[Job], config: Config) -> None:
        """The run's files, once indexed, and the configuration the passes get."""
        self.jobs = {job.result.path: job for job in jobs}
        self.contents = {path: run_cache.content_of(job.source) for path, job in self.jobs.items()}
        self.options = run_cache.options_key(config)

    def trace(self, job: Job) -> run_cache.Trace | None:
        """The file's trace from an earlier run, if it was this very file in the same role."""
        found = self.earlier.get(job.result.path)
        if found is None or found.content != self.contents.get(job.result.path) or (
                found.module != job.ix.module or found.selected != job.rewrite
                or found.options != self.options):
            return None
        return found

    def holds(self, questions: Questions, plans: dict[str, Plan]) -> bool:
        return answered_alike(questions, plans, self.contents)

    def note(self, path: str, stage: str, questions: Questions | None,
             outcome: LocalOutcome | run_cache.Stored) -> None:
        """A stage of this run for a file (done now, or kept from its trace)."""
        job = self.jobs[path]
        trace = self.now.setdefault(path, run_cache.Trace(
            self.contents[path], job.ix.module, job.rewrite, self.options))
        failed = outcome.failed if isinstance(outcome, LocalOutcome) else outcome
        if questions is None or (failed and (failed.error or "").startswith(INTERNAL_ERROR)):
            return  # (a bug's outcome is not kept: its message is not even the same twice)
        if isinstance(outcome, LocalOutcome):
            outcome = replace(outcome, questions=None)
        setattr(trace, stage, (questions, outcome))

    def keep(self, path: str, stage: str, trace: run_cache.Trace) -> None:
        kept = getattr(trace, stage)
        self.note(path, stage, kept[0], kept[1])


class _Transports:
    """The run's transports: the first over the files redone, then those redoing kept files
    from the start when a later stage's questions are answered otherwise."""

    def __init__(self, start: Callable[[list[Job]], workers.Transport]) -> None:
        self.start, self.all = start, []

    def new(self, jobs: list[Job]) -> workers.Transport:
        transport = self.start(jobs)
        self.all.append(transport)
        return transport


def _rounds(start: Callable[[list[Job]], workers.Transport], plan: Plan, jobs: list[Job],
            late: Callable[[RunState], list[Job]], tick: Callable[[str], None],
            reuse: _Reuse | None) -> Iterator[FileResult]:
    """Local pass over `jobs`; again for the files concerned when some functions must stay
    sync; colouring over the whole project; then the colouring pass over `jobs` and over
    `late(state)` (the state after colouring). Yields each file's result as it is final; the
    workers are stopped when the run is abandoned."""
    transports = _Transports(start)
    try:
        yield from _rounds_in(transports, plan, jobs, late, tick, reuse)
    except BaseException:
        for transport in transports.all:
            transport.stop()
        raise
    for transport in transports.all:
        transport.close()


def _rounds_in(transports: _Transports, plan: Plan, jobs: list[Job],
               late: Callable[[RunState], list[Job]], tick: Callable[[str], None],
               reuse: _Reuse | None) -> Iterator[FileResult]:
    progress = _Progress(reuse)
    plans = {STAGE_LOCAL: plan}
    # files whose local pass is kept from an earlier run: path → (job, its trace)
    kept: dict[str, tuple[Job, run_cache.Trace]] = {}
    for job in jobs if reuse else ():
        trace = reuse.trace(job)
        if trace and trace.local and reuse.holds(trace.local[0], plans):
            kept[job.result.path] = (job, trace)
    main = transports.new([job for job in jobs if job.result.path not in kept])
    yield from progress.take(main.local(), tick, STAGE_LOCAL)
    for path, (job, trace) in list(kept.items()):
        reuse.keep(path, STAGE_LOCAL, trace)
        outcome = progress.outcomes[path] = trace.local[1]
        tick(path)
        if outcome.failed is not None:
            del kept[path]
            yield run_cache.restored(run_cache.stored(outcome.failed), job.source)
    # Functions to keep sync behind run_sync, and the files to redo for that.
    unconverted = progress.unconverted()
    keep, shells = plan.keepable_sync(unconverted, progress.made_async())
    # the others keep their legacy query variables on the sync_session, behind run_sync
    behind = frozenset(unconverted.keys() - keep.keys())
    # and those handing such a Query back leave it to their callers to run, behind run_sync
    builders = plan.find_legacy_builders(behind, keep)
    behind |= (builders.keys() | plan.builder_callers(builders)) - keep.keys()
    paths: set[str] = set()
    if keep or behind:
        modules = {module for module, _ in [*keep, *behind]} | {
            caller.module for ref in keep for caller, _ in plan.callers(ref)}
        plan = plans[STAGE_REDO] = plan.with_state(replace(
            plan.state, keep_sync=plan.keep_sync | keep.keys(),
            legacy=plan.legacy | keep.keys(),
            kept_because=plan.state.kept_because | set(keep.items()),
            sync_shells=plan.state.sync_shells | shells, behind_run_sync=behind,
            legacy_builders=frozenset(builders.items())))
        paths = {job.result.path for job in jobs if job.ix.module in modules}
        yield from progress.take(main.redo(plan.state, paths), lambda path: None, STAGE_REDO)
    # kept files redone now as before (or neither time); the others go again from the start:
    # before the colouring where they are redone now (what they make async counts there)
    from_start: list[Job] = []
    redo_again: list[Job] = []
    for path, (job, trace) in list(kept.items()):
        if trace.redo is None and path not in paths:
            continue
        if trace.redo is not None and path in paths and reuse.holds(trace.redo[0], plans):
            reuse.keep(path, STAGE_REDO, trace)
            progress.outcomes[path] = trace.redo[1]
            continue
        del kept[path]
        (redo_again if path in paths else from_start).append(job)
    if redo_again:
        again = transports.new(redo_again)
        yield from progress.take(again.local(), lambda path: None, STAGE_LOCAL)
        yield from progress.take(again.redo(plan.state, {j.result.path for j in redo_again}),
                                 lambda path: None, STAGE_REDO)
    async_functions = plan.colour(progress.made_async())
    plan = plans[STAGE_COLOUR] = plan.with_state(replace(
        plan.state, async_functions=async_functions, renamed=progress.renamed()))
    late_jobs = []
    for job in late(plan.state):
        trace = reuse.trace(job) if reuse else None
        if trace and not trace.local and trace.colour and reuse.holds(trace.colour[0], plans):
            yield _kept_result(reuse, job, trace, tick)
        else:
            late_jobs.append(job)
    for job, trace in kept.values():
        if trace.colour and reuse.holds(trace.colour[0], plans):
            yield _kept_result(reuse, job, trace, tick)
        else:
            from_start.append(job)
    if from_start:
        again = transports.new(from_start)
        yield from progress.take(again.local(), lambda path: None, STAGE_LOCAL)
        redone = {job.result.path for job in from_start} & paths
        if redone:
            yield from progress.take(again.redo(plans[STAGE_REDO].state, redone),
                                     lambda path: None, STAGE_REDO)
    for transport in transports.all:
        for answer in transport.colour(plan.state, late_jobs if transport is main else []):
            if isinstance(answer, workers.Lost):
                yield answer.result
                continue
            if reuse:
                reuse.note(answer.path, STAGE_COLOUR, answer.questions,
                           run_cache.stored(answer.result))
            tick(answer.path)
            yield answer.result


def _kept_result(reuse: _Reuse, job: Job, trace: run_cache.Trace,
                 tick: Callable[[str], None]) -> FileResult:
    reuse.keep(job.result.path, STAGE_COLOUR, trace)
    tick(job.result.path)
    return run_cache.restored(trace.colour[1], job.source)


@contextlib.contextmanager
def _rare_full_collections() -> Iterator[None]:
    """Full garbage collections, made rarer while a run lasts: parsed trees are millions of
    long-lived objects with few cycles, and Python rescans them all at every full collection
    (a third of a large file's run time). Worker processes inherit the setting."""
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], max(before[2], 1000))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def uses_pyramid(plan: Plan) -> bool:
    """Whether the project is a Pyramid application: Pyramid calls its views synchronously
    and its transaction manager (pyramid_tm, zope.sqlalchemy) drives synchronous sessions,
    so no part of it can move to AsyncSession."""
    return any(q.partition(".")[0] == "pyramid" for ix in plan.modules.values()
               for q in ix.imports.values())


def effective_config(plan: Plan, config: Config) -> Config:
    """The configuration the run applies: a Pyramid project asked for the async target is
    migrated as with `--target sync` (see `run_notes`)."""
    if config.target == "async" and uses_pyramid(plan):
        return replace(config, target="sync")
    return config


def run_notes(plan: Plan, config: Config) -> list[str]:
    """What the run says once, about the whole project (not about one file); `config` is the
    one asked for, before `effective_config`."""
    if config.target != "async":
        return []
    if uses_pyramid(plan):
        return ["This project uses Pyramid, which calls its views synchronously and whose "
                "transaction manager drives synchronous sessions: it has no asyncio support. "
                "It is migrated as with --target sync: queries move to 2.0-style select() on "
                "the same synchronous sessions, and nothing becomes async."]
    notes = []
    if config.sqlalchemy_pin:
        notes.append(f"The project holds SQLAlchemy below 2.0 ({config.sqlalchemy_pin}): the "
                     "migrated code uses SQLAlchemy 2.0's asyncio API (async_sessionmaker, "
                     "AsyncSession.scalars, ...). Require sqlalchemy>=2.0, with the async "
                     "drivers the new URLs name (aiosqlite, asyncpg, ...).")
    kept = {ix.path: plan.stays_sync(ix.module) for ix in plan.modules.values()
            if plan.stays_sync(ix.module)}
    alembic = sorted(path for path, reason in kept.items() if reason == ALEMBIC)
    others = sorted((path, reason) for path, reason in kept.items() if reason != ALEMBIC)
    if others:
        listed = "; ".join(f"{path}: {reason}" for path, reason in others[:5])
        notes.append(
            f"{len(others)} module(s) stay synchronous and are migrated as with --target "
            f"sync (queries move to select() on the same sessions): {listed}"
            f"{' …' if others[5:] else ''}.")
    if alembic:
        notes.append(
            f"Alembic modules stay synchronous ({', '.join(alembic[:3])}"
            f"{' …' if alembic[3:] else ''}): Alembic runs them without an event loop. If "
            "env.py builds its engine from the application's database URL, which may now name "
            "an async driver, give it the sync URL, or switch env.py to Alembic's async "
            "template (`alembic init -t async`).")
    flask = plan.flask_sqlalchemy_objects
    if not flask:
        return notes
    names = ", ".join(f"`{name}`" for name in flask)
    return [*notes, f"This project uses Flask-SQLAlchemy ({names}), "
            "which has no asyncio support: its queries and db.session stay synchronous (each "
            "query gets a TODO; its database URLs keep their sync drivers). Use --target sync "
            "to move its queries to select(), or move the data layer off Flask-SQLAlchemy "
            "first."]


def iter_migrate(sources: Iterable[SourceFile], config: Config | None = None,
                 context_sources: Iterable[SourceFile] = (),
                 progress: Callable[[str], None] | None = None,
                 notes: Callable[[str], None] | None = None) -> Iterator[FileResult]:
    """Migrate files as one project, yielding each file's result as soon as it is final.

    `context_sources` are the rest of the project (an incremental run): they are indexed,
    their own database code stays as it is (legacy, called through `run_sync` from migrated
    code), and they change only where they call functions that became async. A context file
    is yielded only when it changes. `progress` is called with a path each time a stage
    finishes with a file; `notes` with each message about the run as a whole (see
    `run_notes`), before the first result. With `config.jobs > 1` the per-file passes run in
    that many worker processes.
    """
    try:
        with _rare_full_collections():
            yield from _cached(list(sources), config, list(context_sources), progress, notes)
    finally:
        drop_kept_tree()  # (the `ast` the index kept for a module's read, if none took it)


def _cached(sources: list[SourceFile], config: Config | None,
            context_sources: list[SourceFile], progress: Callable[[str], None] | None,
            notes: Callable[[str], None] | None) -> Iterator[FileResult]:
    """The run, or (with a cache folder) the stored results of the same run: same tool, same
    options, the same files with the same texts (see `run_cache`)."""
    folder = Path(config.cache_dir) if config is not None and config.cache_dir else None
    if folder is None:
        yield from _migrate(sources, config, context_sources, progress, notes)
        return
    key = run_cache.run_key(sources, context_sources, config)
    record = run_cache.load(folder, key)
    if record is not None:
        for note in record.notes if notes else ():
            notes(note)
        for result in run_cache.replay(record, [*sources, *context_sources]):
            if progress:
                progress(result.path)
            yield result
        return
    said: list[str] = []

    def note(message: str) -> None:
        said.append(message)
        if notes:
            notes(message)

    results = []
    earlier = run_cache.load_traces(folder, config)
    reuse = _Reuse(earlier)
    for result in _migrate(sources, config, context_sources, progress, note, reuse):
        results.append(run_cache.stored(result))
        yield result
    # only a run that was seen to its end
    run_cache.store(folder, key, said, results, config, {**earlier, **reuse.now})


def _migrate(sources: Iterable[SourceFile], config: Config | None,
             context_sources: Iterable[SourceFile],
             progress: Callable[[str], None] | None,
             notes: Callable[[str], None] | None,
             reuse: _Reuse | None = None) -> Iterator[FileResult]:
    # the rules the selection's code needs run too (a refused selection raises SelectionError)
    config, selection_notes = resolve_selection(config or Config())
    tick = progress or (lambda path: None)
    sources, context_sources = list(sources), list(context_sources)
    # stubs are no modules: each follows its module's signatures (`stubs`), once it is final
    stubs = {s.path: s for s in [*sources, *context_sources] if is_stub(s.path)}
    given_stubs = {s.path for s in sources if is_stub(s.path)}
    sources = [s for s in sources if not is_stub(s.path)]
    context_sources = [s for s in context_sources if not is_stub(s.path)]

    def with_stub(result: FileResult) -> Iterator[FileResult]:
        """The module's result, then its stub's (a stub outside the selection only when it
        changes)."""
        yield result
        stub = stubs.pop(stub_path(result.path), None)
        if stub is not None:
            try:
                stub_result = migrate_stub(stub, result)
                verify(stub_result)
            except Exception as exc:  # noqa: BLE001 - a bug fails the stub, never the run
                stub_result = stub.new_result()
                internal_error(stub_result, exc)
            if stub.path in given_stubs or stub_result.changed or stub_result.error:
                tick(stub.path)
                yield stub_result
    selected: list[Job] = []
    indexes = index_all([s for s in [*sources, *context_sources] if s.error is None],
                        config.jobs, Path(config.cache_dir) if config.cache_dir else None,
                        selected={s.path for s in sources}, keep_tree=True)
    for source in sources:
        result = source.new_result()
        ix = _indexed(source, result, indexes)
        if ix is None:
            tick(result.path)
            yield from with_stub(result)
        else:
            selected.append(Job(source, ix, result))
    context = [Job(source, ix, result, rewrite=False) for source in context_sources
               for result in [source.new_result()]
               for ix in [_indexed(source, result, indexes)] if ix]
    plan = Plan.build((job.ix for job in [*selected, *context]), RunState(
        context=frozenset(job.ix.module for job in context),
        console_scripts=frozenset((module, function) for module, _, function in (
            script.partition(":") for script in config.console_scripts))))
    for note in [*selection_notes, *run_notes(plan, config)] if notes else ():
        notes(note)
    config = effective_config(plan, config)

    # What the rest of the project does with its own (sync) sessions: legacy functions. Only
    # the modules the selection reaches through calls are parsed to find out; their trees
    # are kept for the colouring pass (parsed once).
    reached = _reached_modules(plan, [j.ix for j in selected], [j.ix for j in context])
    legacy_io: set[FunctionRef] = set()
    for job in context:
        if job.source.may_need_work and job.ix.module in reached:
            with contextlib.suppress(Exception):  # only a hint; the file is not rewritten
                pending = local_pass(replace(job, rewrite=True), plan, config)
                job.parsed = pending.read
                legacy_io |= {(job.ix.module, s) for s in pending.io_scopes
                              if s in job.ix.functions}
    plan = plan.with_state(replace(plan.state, legacy=plan.colour(
        legacy_io, within={j.ix.module for j in context})))

    # a settings module holding only a database URL (`DATABASE_URL = "sqlite://..."`) has
    # none of the marker bytes, but its URL may feed an engine the run converts; a test
    # module driving the app with `TestClient(app)` may need work too (SQA309). A file whose
    # bytes may need work gets the local pass only when the plan gives it something to do
    # there (`local_pass_can_act`).
    can_act = {job.result.path: _can_act(job.ix, plan, config) for job in selected}
    first = [job for job in selected
             if (job.source.may_need_work and can_act[job.result.path])
             or job.ix.url_dialects or plan.model_parameter_scopes(job.ix)
             or rule_scopes(job.ix, plan, module_config(job.ix, plan, config))]
    rewritten = {job.result.path for job in first}
    rest = [job for job in [*selected, *context]
            if job.result.path not in rewritten or not job.rewrite]

    def late(state: RunState) -> list[Job]:
        """Files not rewritten locally that call code which became async, files of the
        selection where the audit can find something, and files outside it that a local
        rule edits there too (SQA309: the tests of an app this run gives a lifespan)."""
        coloured = plan.with_state(state)
        audits = audit_rules(config)

        def audited(job: Job) -> bool:
            # a file here had no local pass (it is not in `first`) and nothing in it became
            # async: it stays the text as read, and the index tells whether the audit can
            # find something in it
            try:  # (the analysis of a deeply chained module: as `_can_act`)
                return retry_deep(audit_finds_in_original, job.ix, coloured, audits)
            except RecursionError:
                return True

        return [job for job in rest if needs_colouring(job.ix, plan, state.async_functions) or (
            job.rewrite and audited(job)) or (
            not job.rewrite and context_rules(job.ix, plan, config))]

    selected_paths = {job.result.path for job in selected}
    done: set[str] = set()
    if reuse:
        reuse.begin([*selected, *context], config)
    rewriter = partial(FileRewriter, digests=reuse.contents) if reuse else FileRewriter
    for result in _rounds(lambda jobs: workers.start(rewriter, plan, config, jobs), plan, first,
                          late, tick, reuse):
        done.add(result.path)
        if result.path in selected_paths or result.error is not None or result.changed:
            yield from with_stub(result)
    for job in selected:
        if job.result.path not in done:  # nothing to do in it
            tick(job.result.path)
            yield from with_stub(job.result)
    for path in sorted(given_stubs & set(stubs)):  # their module is not in the run
        tick(path)
        yield stubs[path].new_result()


def _can_act(ix: ModuleIndex, plan: Plan, config: Config) -> bool:
    """`local_pass_can_act`, in a deep thread where the analysis of a deeply chained module
    reaches the recursion limit (as the local pass itself would be); True when even that
    cannot answer (the local pass then reports the file's failure as before)."""
    try:
        return retry_deep(local_pass_can_act, ix, plan, config)
    except RecursionError:
        return True


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
