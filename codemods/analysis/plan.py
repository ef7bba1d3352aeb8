"""Pure decisions over the project index: the read-only `Plan` facade the rules ask.

Nothing here reads files. A `Plan` answers, for one `RunState`:
- what kind of SQLAlchemy object a name holds in a scope (kinds.py);
- which classes are mapped, and their relationships (models.py), what code reads on model
  objects and where they were loaded (reads.py), which functions are query helpers
  (helpers.py);
- which function a call refers to (project.py), and which functions must become
  `async def` (colouring.py).

The state-free analysis (names, call graph, kinds, mapped classes, with their caches) is
shared by every plan `with_state` derives; what depends on the state is rebuilt for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..api_surface import EVENT_FUNCTIONS
from ..config import Config
from ..index import ClassInfo, FunctionInfo, ModuleIndex
from ..index.redefinitions import plain_name
from . import module_code
from .colouring import Colouring, KeptSync
from .decorators import Decorators
from .engine_urls import EngineUrls
from .helpers import FinisherShape, Helpers, HelperShape
from .kinds import Kinds
from .listeners import Listeners
from .models import Models
from .project import FunctionRef, Project
from .provenance import Provenance, by_name
from .reads import Loads, Reads
from .startup import AppStartup, Startups
from .state import RunState
from .sync_modules import SyncModules


@dataclass(frozen=True)
class _Analysis:
    """The state-free part, shared between plans."""

    project: Project
    models: Models
    kinds: Kinds
    reads: Reads
    provenance: Provenance
    engine_urls: EngineUrls
    sync_modules: SyncModules
    startups: Startups
    decorators: Decorators
    # project-wide answers the rules compute once per run (see `Plan.once`)
    answers: dict[str, Any] = field(default_factory=dict)


class Plan:
    """What the rules may ask about the project, for one run state (read-only)."""

    def __init__(self, analysis: _Analysis, state: RunState) -> None:
        self._analysis, self._state = analysis, state
        project, models, kinds, reads = (analysis.project, analysis.models, analysis.kinds,
                                         analysis.reads)
        loads = Loads(project, state.legacy)
        self._helpers = Helpers(project, models, kinds, state.context)
        colouring = Colouring(project, models, kinds, reads, analysis.decorators,
                              analysis.sync_modules.reasons, state, analysis.answers)
        self._colouring = colouring
        self._listeners = Listeners(colouring, self._called_method)
        # names across modules, the call graph
        self.modules = project.modules
        self.qualify, self.binding_scope = project.qualify, project.binding_scope
        self.bindings, self.lookup = project.bindings, project.lookup
        self.owner_class, self.resolve_function = project.owner_class, project.resolve_function
        self.callers, self.calls_in, self.calls_into = (project.callers, project.calls_in,
                                                        project.calls_into)
        self.defines_any, self.parameters_given = project.defines_any, project.parameters_given
        self.run_sync_callers, self.importers = project.run_sync_callers, project.importers
        # what runs a module's top-level code (SQA307 moves it into `async def main()`)
        self.module_importer = partial(module_code.importer, project)
        self.web_application = partial(module_code.web_application, project)
        self.passed_on = project.passed_on
        self.ancestors, self.lineage = project.ancestors, project.lineage
        self.implicit_self, self.import_root = project.implicit_self, project.import_root
        # modules that stay synchronous under the async target: module -> why
        self.stays_sync = analysis.sync_modules.reasons.get
        # where names come from (the audit after colouring)
        provenance = analysis.provenance
        self.database_module, self.imports_project = (provenance.database_module,
                                                      provenance.imports_project)
        self.unrelated, self.not_a_session = provenance.unrelated, provenance.not_a_session
        self.resolve_call = provenance.resolve_call
        self._async_by_name: dict[str, tuple[FunctionRef, ...]] | None = None
        self._async_decorated: dict[FunctionRef, str] | None = None  # → its decorator
        self._async_decorated_names: set[str] = set()  # their last names
        self._legacy_builders: dict[FunctionRef, str] | None = None
        self._methods_by_name: dict[str, tuple[FunctionRef, ...]] | None = None
        # what names hold
        self.kind, self.flask_db, self.custom_query = kinds.kind, kinds.flask_db, kinds.custom_query
        self.call_result_kind = kinds.call_result_kind  # what calling a name gives
        self.is_session_registry = kinds.is_session_registry
        self.engine_urls = analysis.engine_urls  # where engines read their database URLs
        # FastAPI apps and the module-level DDL their lifespan takes (SQA010)
        self.app_startup = analysis.startups.app_startup
        # mapped classes
        self.mapped_class, self.is_alias = models.mapped_class, models.is_alias
        self.is_model_base, self.mapped_subclasses = models.is_model_base, models.mapped_subclasses
        self.holds_some_model = models.holds_some_model  # `self.model: type[ModelType]`
        self.annotated_class, self.loader = models.annotated_class, models.loader
        self.relationship, self.relationship_paths = models.relationship, models.relationship_paths
        self.relationship_target = models.relationship_target
        self.loads_implicitly = models.loads_implicitly
        self.subclass_column = models.subclass_column
        self.joined_collections = models.joined_collections
        # relationship reads
        self.reads_on, self.reads_on_attribute = reads.reads_on, reads.reads_on_attribute
        self.reads_on_result, self.implicit_reads = reads.reads_on_result, reads.implicit_reads
        self.response_schema_reads = reads.response_schema_reads
        self.paths_loaded_by = reads.paths_loaded_by
        self.model_parameter_scopes = reads.model_parameter_scopes
        self.untraced_sources, self.returns_loaded = loads.untraced_sources, loads.returns_loaded
        # colouring
        self.colour = colouring.colour
        self.cannot_be_async, self.sync_boundary = (colouring.cannot_be_async,
                                                    colouring.sync_boundary)
        self.relevant_scopes = colouring.relevant_scopes
        self.framework_awaits = colouring.framework_awaits
        self.unknown_decorators = colouring.unknown_decorators
        self.wrapper = analysis.decorators.wrapper  # a project decorator's inner function
        self.instance_session = colouring.instance_session

    @classmethod
    def build(cls, indexes: Iterable[ModuleIndex], state: RunState | None = None) -> Plan:
        # Where two files claim one module name (`cps.py` beside `cps/__init__.py`), the
        # package is what `import cps` finds.
        by_name = sorted(indexes, key=lambda ix: ix.path.endswith("__init__.py"))
        project = Project({ix.module: ix for ix in by_name})
        models = Models(project)
        kinds = Kinds(project, models)
        sync_modules = SyncModules(project, kinds)
        return cls(_Analysis(project, models, kinds, Reads(project, models, kinds),
                             Provenance(project, kinds), EngineUrls(project, sync_modules),
                             sync_modules, Startups(project, kinds), Decorators(project)),
                   state or RunState())

    def with_state(self, state: RunState) -> Plan:
        """This project under another run state (the state-free analysis is shared)."""
        return Plan(self._analysis, state)

    def once(self, key: str, compute: Callable[[Plan], Any]) -> Any:
        """A state-free answer about the whole project, computed on first use and shared by
        every plan `with_state` derives (a rule asking it for each file would otherwise scan
        the project once per file)."""
        answers = self._analysis.answers
        if key not in answers:
            answers[key] = compute(self)
        return answers[key]

    # -- the run state --------------------------------------------------------------------------
    @property
    def state(self) -> RunState:
        return self._state

    @property
    def context(self) -> frozenset[str]:
        return self._state.context

    @property
    def console_scripts(self) -> frozenset[FunctionRef]:
        return self._state.console_scripts

    @property
    def legacy(self) -> frozenset[FunctionRef]:
        return self._state.legacy

    @property
    def keep_sync(self) -> frozenset[FunctionRef]:
        return self._state.keep_sync

    @property
    def sync_shells(self) -> frozenset[FunctionRef]:
        return self._state.sync_shells

    @property
    def behind_run_sync(self) -> frozenset[FunctionRef]:
        return self._state.behind_run_sync

    @property
    def legacy_builders(self) -> dict[FunctionRef, str]:
        if self._legacy_builders is None:
            self._legacy_builders = dict(self._state.legacy_builders)
        return self._legacy_builders

    def find_legacy_builders(self, behind: Iterable[FunctionRef],
                             keep: Iterable[FunctionRef]) -> dict[FunctionRef, str]:
        """The functions that hand back a legacy Query built on one session, with that
        session as they name it (`self.session`, a parameter, a module's name): those of
        `behind` building it (on its sync_session), then, over and over, functions (not
        kept sync) returning what a builder's call on the same session returns. Where the
        Query is run, their callers run it behind run_sync."""
        found: dict[FunctionRef, str] = {}
        for ref in behind:
            ix = self.modules[ref[0]]
            info = ix.functions.get(ref[1])
            receivers = {site.callee.removesuffix(".query") for site in ix.calls
                         if site.scope == ref[1] and site.callee.endswith(".query")}
            head = next(iter(receivers)).partition(".")[0] if len(receivers) == 1 else None
            # (a session in a local variable of its own has no name where it is called)
            if info is not None and info.returns_query_object and head is not None and (
                    head in info.params or head in ix.module_names):
                found[ref] = receivers.pop()
        kept, todo = set(keep), list(found)
        while todo:
            builder = todo.pop()
            for caller_ix, site in self.callers(builder):
                ref = (caller_ix.module, site.scope)
                info = caller_ix.functions.get(site.scope)
                if ref in found or ref in kept or info is None or (
                        site.callee not in info.returned_calls):
                    continue
                session = self._handed_on(builder, found[builder], site.callee, ref, info)
                if session is not None:
                    found[ref] = session
                    todo.append(ref)
        return found

    def _handed_on(self, builder: FunctionRef, session: str, call: str,
                   caller: FunctionRef, caller_info: FunctionInfo) -> str | None:
        """The builder's session as a caller handing its Query on names it: the same
        `self.<attribute>` for a method called on the caller's own `self`, the same name in
        the builder's module (a session parameter: not followed)."""
        info = self.modules[builder[0]].functions[builder[1]]
        head = session.partition(".")[0]
        if info.owner_class is not None and info.params and head == info.params[0]:
            own = caller_info.params[0] if caller_info.owner_class is not None and (
                caller_info.params) else None
            return session if own == head and call.startswith(f"{own}.") else None
        return session if head not in info.params and caller[0] == builder[0] and (
            head in self.modules[builder[0]].module_names) else None

    def builder_callers(self, builders: Iterable[FunctionRef]) -> set[FunctionRef]:
        """The functions calling one of these builders."""
        return {(caller.module, site.scope) for ref in builders
                for caller, site in self.callers(ref) if site.scope in caller.functions}

    def kept_because(self, ref: FunctionRef) -> str | None:
        """Why a function kept synchronous holds legacy code (the TODO the local pass left)."""
        return next((why for kept, why in self._state.kept_because if kept == ref), None)

    @property
    def async_functions(self) -> frozenset[FunctionRef]:
        return self._state.async_functions

    @property
    def renamed(self) -> frozenset[tuple[str, str, str]]:
        """(module, old local name, new local name) of every imported name replaced."""
        return self._state.renamed

    def renamed_in(self, module: str) -> dict[str, str]:
        """The imported names the rewrite replaced in `module`: old local -> new local."""
        return {old: new for m, old, new in self._state.renamed if m == module}

    def async_by_name(self, name: str) -> tuple[FunctionRef, ...]:
        """The functions that became async whose last name is `name` (a sync boundary keeps
        a sync function of its name, so it is not among them)."""
        if self._async_by_name is None:
            self._async_by_name = by_name(frozenset(
                ref for ref in self._state.async_functions if not self.sync_boundary(ref)))
        return self._async_by_name.get(name, ())

    def async_decorated_call(self, ix: ModuleIndex, scope: str, callee: str
                             ) -> tuple[FunctionRef, str] | None:
        """(the function, its decorator as written) when the call `callee(...)` in `scope`
        reaches a function a project decorator wraps in a wrapper that became async while
        the function did not (`Decorators.made_async`): the call returns a coroutine."""
        if self._async_decorated is None:
            made_async = self._analysis.decorators.made_async
            self._async_decorated = {
                (ix.module, qualname): decorator for ix in self.modules.values()
                for qualname, info in ix.functions.items() if info.decorators and (
                    decorator := made_async((ix.module, qualname), self._state.async_functions))}
            self._async_decorated_names = {plain_name(ref[1]) for ref in self._async_decorated}
        if callee.rpartition(".")[2] not in self._async_decorated_names:
            return None
        ref = self.resolve_call(ix, scope, callee)
        decorator = self._async_decorated.get(ref) if ref is not None else None
        return (ref, decorator) if decorator is not None else None

    def unfollowed_wrapper(self, ref: FunctionRef) -> str | None:
        """For the inner function of a project decorator: why the tool cannot tell that every
        function it wraps became async (so that it awaits them), or None when it can."""
        wrapper = self.wrapper(ref)
        if wrapper is None:
            return "it is no decorator's wrapper the tool follows"
        return wrapper.unknown or next((
            f"{f[1]}() stays synchronous ({self.sync_boundary(f) or self.cannot_be_async(f)})"
            for f in wrapper.wrapped if f not in self.async_functions or self.sync_boundary(f)),
            None) or (None if ref in self.async_functions else f"{ref[1]}() stays synchronous")

    def gets_lifespan(self, qualified: str, config: Config) -> AppStartup | None:
        """The startup of the FastAPI app `qualified` names when this run gives it a lifespan
        handler (its module is rewritten, not only context, and SQA010 moves its module-level
        DDL there), so its tables exist only while that lifespan runs; else None."""
        found = self.lookup(qualified)
        if found is None or found[0].module in self._state.context:
            return None
        startup = self.app_startup(found[0], config)
        return startup if startup and startup.lifespan and startup.app == found[1] else None

    # -- answers that are properties ------------------------------------------------------------
    @property
    def mapped_classes(self) -> dict[str, ClassInfo]:
        return self._analysis.models.mapped_classes

    @property
    def flask_sqlalchemy_objects(self) -> list[str]:
        return self._analysis.models.flask_sqlalchemy_objects

    @property
    def schema_classes(self) -> set[str]:
        return self._analysis.models.schema_classes

    @property
    def dialects_without_returning(self) -> set[str]:
        return self._analysis.project.dialects_without_returning

    @property
    def query_helpers(self) -> dict[FunctionRef, HelperShape]:
        return self._helpers.query_helpers

    @property
    def query_finishers(self) -> dict[FunctionRef, FinisherShape]:
        return self._helpers.query_finishers

    def event_target_param(self, ref: FunctionRef, param: str, depth: int = 0) -> bool:
        """`param` of the function `ref` is what `event.listen(param, ...)` registers on,
        there or in a function it is handed to (a few calls deep): a Session class given as
        its default stays the sync one, which takes events for async sessions too."""
        ix = self.modules[ref[0]]
        for site in self.calls_in(ix, ref[1]):
            if site.args and site.args[0] == param and self.qualify(ix, site.callee) in (
                    EVENT_FUNCTIONS):
                return True
            target = self._called_method(ix, site.scope, site.callee) if depth < 3 else None
            if target is not None and target != ref and any(
                    self.event_target_param(target, given, depth + 1)
                    for given in self.parameters_given(site, target, param)):
                return True
        return False

    def _called_method(self, ix: ModuleIndex, scope: str, callee: str) -> FunctionRef | None:
        """The project function `callee` names in `scope`; for `receiver.method` on a receiver
        the tool cannot type (`manager.track(...)`, a parameter defaulting to an instance),
        the project's only method of that name."""
        found = self.resolve_call(ix, scope, callee)
        if found is not None or "." not in callee:
            return found
        if self._methods_by_name is None:
            self._methods_by_name = by_name(frozenset(
                (m.module, q) for m in self.modules.values() for q, f in m.functions.items()
                if f.owner_class))
        methods = self._methods_by_name.get(callee.rpartition(".")[2], ())
        return methods[0] if len(methods) == 1 else None

    def keepable_sync(self, unconverted: dict[FunctionRef, str],
                      io: set[FunctionRef]) -> KeptSync:
        """Event listeners that would become async and what they call (listeners.py); then
        see `Colouring.keepable_sync`, never for a query finisher, whose callers hand it a
        select() already."""
        listeners = self._listeners.kept_sync(io)
        finishers = self.query_finishers
        found = self._colouring.keepable_sync(
            {ref: why for ref, why in unconverted.items() if ref not in finishers},
            io - listeners.keys())
        return KeptSync(found.kept | listeners, found.shells - listeners.keys())

    @property
    def name_readers(self) -> frozenset[str]:
        return self._analysis.models.name_readers

    # -- rule call shapes: the scope a name is read in does not change its class ---------------
    def class_with_method_in(self, ix: ModuleIndex, dotted: str,
                             functions: frozenset[FunctionRef]) -> bool:
        """The class `dotted` names has a method among `functions`."""
        return self._analysis.project.class_with_method_in(ix, dotted, functions)

    def legacy_class(self, ix: ModuleIndex, dotted: str) -> bool:
        """A class with methods an incremental run leaves sync."""
        return self._colouring.legacy_class(ix, dotted)
