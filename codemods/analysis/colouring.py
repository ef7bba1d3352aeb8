"""Which functions become `async def`, which stay sync, and which scopes a pass enters."""

from __future__ import annotations

from typing import NamedTuple

from .. import api_surface as api
from ..index import CALL, CallSite, FunctionInfo, ModuleIndex
from ..index.redefinitions import plain_name
from . import module_code
from .decorators import Decorators
from .kinds import Kinds, ObjKind
from .models import Models
from .project import FunctionRef, Project, qualname
from .reads import Reads
from .state import RunState
from .sync_modules import sync_only_decorator

# The special methods that have an async counterpart (`with` → `async with`).
ASYNC_SPECIAL_METHODS = {"__enter__": "__aenter__", "__exit__": "__aexit__"}
# View decorators of frameworks without asyncio support: their views stay `def`.
# Frameworks that call a function synchronously (SQA305 keeps a sync wrapper for them).
_SYNC_FRAMEWORKS = frozenset({"click.command", "click.group", "celery.shared_task",
                              "dramatiq.actor", "rq.job"})
_FRAMEWORK_FACTORIES = frozenset({"click.Group", "click.group", "typer.Typer", "celery.Celery",
                                  "asyncclick.Group", "asyncclick.group"})
_FRAMEWORK_METHODS = frozenset({"command", "group", "task", "callback"})
# Packages whose `command`/`group` are click's (re-exported, or subclasses of its classes):
# click calls their callbacks synchronously, as its own. `import rich_click as click`.
_CLICK_DROP_INS = {"rich_click": "click", "cloup": "click"}
_CLICK_DROP_IN_CLASSES = {"click.RichGroup": "click.Group", "click.RichCommand": "click.Command"}
# Decorators that hand a coroutine function on unchanged or to code that awaits it: the
# rest, on a function that became async, get a TODO (who calls what they registered?).
_TRANSPARENT_DECORATORS = frozenset({
    "staticmethod", "classmethod", "functools.wraps", "functools.update_wrapper",
    "abc.abstractmethod", "typing.overload", "typing.override", "typing.final",
    "typing_extensions.override", "typing_extensions.final", "contextlib.contextmanager",
    "contextlib.asynccontextmanager", "pytest.fixture", "pytest_asyncio.fixture",
})
_TRANSPARENT_PREFIXES = ("pytest.mark.", "unittest.mock.patch", "mock.patch")
# `@app.get(...)` & co. on objects of these packages: they await a coroutine function.
_AWAITING_APPS = frozenset({"fastapi", "starlette"})
_APP_METHODS = api.ROUTE_METHODS | frozenset({"websocket", "middleware", "exception_handler",
                                              "on_event", "route", "websocket_route"})
# asyncclick (click's async fork) awaits a callback that is a coroutine function; its
# commands are still called synchronously (`cli()` runs its own event loop).
_AWAITING_FRAMEWORKS = frozenset({"asyncclick"})
_AWAITING_DECORATORS = frozenset({"asyncclick.command", "asyncclick.group"})


def legacy_reason(why: str) -> str:
    """Why a function holding legacy code stays synchronous (the SQA303 TODO's end)."""
    return f"it holds a legacy query the tool cannot convert: {why}"


class KeptSync(NamedTuple):
    kept: dict[FunctionRef, str]  # function → why it keeps legacy code
    shells: frozenset[FunctionRef]  # of them, routes whose body runs in an async shell


class Colouring:
    """The async/sync decisions of one run state (console scripts, kept-sync and legacy
    functions change the answers)."""

    def __init__(self, project: Project, models: Models, kinds: Kinds, reads: Reads,
                 decorators: Decorators, sync_modules: dict[str, str], state: RunState,
                 shared: dict[object, object] | None = None) -> None:
        self.project, self.models, self.kinds, self.reads = project, models, kinds, reads
        self.decorators = decorators
        self.sync_modules, self.state = sync_modules, state
        # state-free answers, shared by the colourings of every run state of one project
        self.shared: dict[object, object] = {} if shared is None else shared

    def cannot_be_async(self, ref: FunctionRef) -> str | None:
        """Why a function must stay synchronous, or None when it can become `async def`."""
        if ref[0] in self.sync_modules:
            return self.sync_modules[ref[0]]
        info = self.project.modules[ref[0]].functions[ref[1]]
        name = plain_name(ref[1])
        if name.startswith("__") and name.endswith("__") and name not in ASYNC_SPECIAL_METHODS:
            return f"special method {name}() cannot be async"
        decorator = sync_only_decorator(info)
        if decorator:
            return f"@{decorator} cannot be async"
        if info.is_generator and info.hands_back_value:
            return (f"generator {name}() hands back a value (`return <value>`, or the value of "
                    "`yield from`), which an async generator cannot do: the value StopIteration "
                    "carries has no async counterpart; yield the value, or keep it elsewhere")
        return None

    def sync_boundary(self, ref: FunctionRef) -> str | None:
        """What calls this function synchronously — a CLI framework, a task queue, a console
        script — or None. Such a function keeps a sync wrapper running its async body."""
        if ref in self.state.console_scripts:
            return "a console script"
        framework = self._framework(ref)
        return f"@{framework[0]}" if framework else None

    def framework_awaits(self, ref: FunctionRef) -> bool:
        """A sync boundary whose framework awaits the function itself when it is a coroutine
        function (asyncclick): it becomes `async def` with no sync wrapper."""
        framework = self._framework(ref)
        return framework is not None and framework[1].partition(".")[0] in _AWAITING_FRAMEWORKS

    def _framework(self, ref: FunctionRef) -> tuple[str, str] | None:
        """(the decorator as written, the framework's qualified name for it) of a function a
        framework registers and calls: a click/typer command, a Celery task, …"""
        ix = self.project.modules[ref[0]]
        for decorator in ix.functions[ref[1]].decorators:
            qualified = self._outside(ix, decorator)
            if qualified in _SYNC_FRAMEWORKS | _AWAITING_DECORATORS:
                return decorator, qualified
            owner, _, method = decorator.rpartition(".")
            framework = self._framework_object(ix, owner) if (
                method in _FRAMEWORK_METHODS and owner) else None
            if framework:
                return decorator, framework
        return None

    def unknown_decorators(self, ref: FunctionRef) -> list[str]:
        """The decorators of a function that became async that may hand it to code calling
        it without awaiting: not a framework the tool knows, nor a project decorator whose
        wrapper it follows (decorators.py)."""
        ix = self.project.modules[ref[0]]
        outer = ref[1].rpartition(".")[0]
        if self._framework(ref):
            return []
        unknown = []
        for decorator in ix.functions[ref[1]].decorators:
            qualified = self._outside(ix, decorator)
            if qualified in _TRANSPARENT_DECORATORS or qualified.startswith(
                    _TRANSPARENT_PREFIXES) or self.decorators.applied(ix, outer, decorator):
                continue
            owner, _, method = decorator.rpartition(".")
            if method in _APP_METHODS and owner and self._made_by(ix, outer, owner).partition(
                    ".")[0] in _AWAITING_APPS:
                continue
            unknown.append(decorator)
        return unknown

    def _made_by(self, ix: ModuleIndex, scope: str, name: str) -> str:
        """The outside callable that built the object a name holds (`app = FastAPI()`,
        also imported from a project module), or ""."""
        for _ in range(8):
            calls = [b for b in self.project.bindings(ix, scope, name) if b.origin == CALL]
            if calls:
                return self._outside(ix, calls[0].targets[0])
            found = self.project.lookup(ix.qualify(name)) if name in ix.imports else None
            if found is None:
                return ""
            ix, scope, name = found[0], "", found[1]
        return ""

    def _outside(self, ix: ModuleIndex, dotted: str) -> str:
        """The outside name a decorator or class comes from, a click drop-in's as click's."""
        qualified = self.project.qualify(ix, dotted)
        head, _, rest = qualified.partition(".")
        qualified = f"{_CLICK_DROP_INS[head]}.{rest}" if head in _CLICK_DROP_INS else qualified
        return _CLICK_DROP_IN_CLASSES.get(qualified, qualified)

    def _framework_object(self, ix: ModuleIndex, name: str, depth: int = 0) -> str | None:
        """`cli` in `@cli.command()`: a click group, a Typer app, a Celery app (what makes it,
        as a qualified name); also a group of such a group (`@cli.group("users")` on
        `def users()`)."""
        project = self.project
        for binding in project.bindings(ix, "", name):
            if binding.origin == CALL and (made := self._outside(ix, binding.targets[0])) in (
                    _FRAMEWORK_FACTORIES):
                return made
        function = project.resolve_function(ix, "", name)
        if function is None:
            return None
        module = project.modules[function[0]]
        for decorator in module.functions[function[1]].decorators:
            if (made := self._outside(module, decorator)) in (
                    _SYNC_FRAMEWORKS | _AWAITING_DECORATORS):
                return made
            owner, _, method = decorator.rpartition(".")
            if owner and method in _FRAMEWORK_METHODS and depth < 8 and (
                    made := self._framework_object(module, owner, depth + 1)):
                return made
        return None

    def colour(self, io_functions: set[FunctionRef],
               within: set[str] | None = None) -> frozenset[FunctionRef]:
        """Fixed point: functions doing I/O, every function that calls one, and the methods
        a method that became async overrides or is overridden by become async. A project
        decorator's wrapper and the functions it wraps share one colour (decorators.py): a
        call of one runs the other.

        A caller that cannot be async (a property, a special method) stays sync; the rewrite
        leaves a TODO at its call. `within` limits the callers followed to those modules.
        """
        result: set[FunctionRef] = set()
        todo = [ref for ref in io_functions if ref[1] in self.project.modules[ref[0]].functions]
        while todo:
            ref = todo.pop()
            if ref in result:
                continue
            result.add(ref)
            if self.sync_boundary(ref):
                continue  # its callers keep calling a sync wrapper
            todo.extend(m for m in [*self.project.same_method(ref), *self._partner(ref)]
                        if m not in result and not self.cannot_be_async(m))
            todo.extend(m for m in self.wrapping(ref) if m not in result and (
                within is None or m[0] in within) and not self.cannot_be_async(m))
            for caller_ix, site in self.project.callers(ref):
                caller = (caller_ix.module, site.scope)
                if site.scope not in caller_ix.functions or (
                        within is not None and caller_ix.module not in within):
                    continue  # module/class level: handled by the entry-point rule
                if site.usage == "|coroutine":
                    continue  # `asyncio.run(f())`: the caller runs the coroutine as it is
                if caller not in result and not self.cannot_be_async(caller):
                    todo.append(caller)
        return frozenset(result)

    def wrapping(self, ref: FunctionRef) -> list[FunctionRef]:
        """The wrappers of the project decorators on `ref`, and for a wrapper the functions
        it wraps (but those a framework calls synchronously: they keep a sync function the
        wrapper keeps calling, and the rewrite leaves a TODO there)."""
        wrapper = self.decorators.wrapper(ref)
        wrapped = [f for f in wrapper.wrapped if not self.sync_boundary(f)] if wrapper else []
        return [*self.decorators.wrappers_of(ref), *wrapped]

    def _partner(self, ref: FunctionRef) -> list[FunctionRef]:
        """`__exit__` for `__enter__` and back: `async with` needs both async."""
        owner, _, name = ref[1].rpartition(".")
        other = {"__enter__": "__exit__", "__exit__": "__enter__"}.get(name)
        partner = (ref[0], f"{owner}.{other}") if other and owner else None
        return [partner] if partner and partner[1] in self.project.modules[ref[0]].functions \
            else []

    def keepable_sync(self, unconverted: dict[FunctionRef, str],
                      io: set[FunctionRef]) -> KeptSync:
        """Functions holding legacy code the rewrite cannot convert that can stay synchronous
        (→ why): they take a session (run_sync hands them its sync one), call no function that
        becomes async, and are called only from functions (which will wrap the calls) or not
        at all in the project. One that hands its legacy Query back stays sync only with every
        caller using it, and so on up (inside run_sync the Query still runs). A route a
        framework awaits, handed the async session, keeps its body sync inside an async
        shell (`shells`)."""
        kept: dict[FunctionRef, str] = {}
        shells: set[FunctionRef] = set()
        # what becomes async without them: a function calling one of these cannot stay sync
        # (`create()` made async by the engine I/O of a helper it calls)
        coloured = set(self.colour(io - unconverted.keys())) if unconverted else set()
        for ref, why in unconverted.items():
            found = self._sync_group(ref, why, coloured)
            if found is not None:
                kept |= found.kept
                shells |= found.shells
        return KeptSync(kept, frozenset(shells))

    def _sync_group(self, ref: FunctionRef, why: str, io: set[FunctionRef]) -> KeptSync | None:
        """`ref` and the callers its legacy Query reaches, if all of them can stay sync (or,
        routes, keep a sync body in an async shell)."""
        project = self.project
        group = {ref: legacy_reason(why)}
        shells = set()
        todo = [ref]
        while todo:
            member = todo.pop()
            ix = project.modules[member[0]]
            info = ix.functions.get(member[1])
            if info is None:
                return None
            if not self._can_stay_sync(member, info, io, group):
                if not self._shell_fits(member, io, group):
                    return None
                shells.add(member)
            if info.returns_query_object:  # its callers hold a legacy Query: sync too
                for caller_ix, site in project.callers(member):
                    caller = (caller_ix.module, site.scope)
                    if caller not in group:
                        group[caller] = legacy_reason(
                            f"it uses the legacy Query {member[1]}() returns")
                        todo.append(caller)
        return KeptSync(group, frozenset(shells))

    def _can_stay_sync(self, ref: FunctionRef, info: FunctionInfo, io: set[FunctionRef],
                       group: dict[FunctionRef, str]) -> bool:
        if self.run_elsewhere(ref) or info.is_async:  # (an earlier run made it async)
            return False
        callers = self.all_callers(ref)
        if not callers and info.decorators:
            return False  # registered with a framework, which hands it the async session
        # no callers: code outside the project calls it, and the TODO tells it to use run_sync
        return self.run_sync_can_call(ref, callers) and not self._calls_async(ref, io, group)

    def run_elsewhere(self, ref: FunctionRef) -> bool:
        """A test, a fixture or a function a framework calls: what runs it is not code the
        rewrite can put behind run_sync."""
        return self.kinds.is_fixture(self.project.modules[ref[0]], ref[1]) or bool(
            self.sync_boundary(ref)) or ref[1].rpartition(".")[2].startswith("test")

    def all_callers(self, ref: FunctionRef) -> list[tuple[ModuleIndex, CallSite]]:
        """Its calls in the project, also through run_sync (an earlier run kept it sync:
        idempotence)."""
        return [*self.project.callers(ref), *self.project.run_sync_callers(ref)]

    def run_sync_can_call(self, ref: FunctionRef,
                          callers: list[tuple[ModuleIndex, CallSite]]) -> bool:
        """Kept sync, it can be called through run_sync from these calls: it takes a session
        (run_sync hands it the sync one) and every call is made in a function, or at the top
        of a script, whose work moves into `async def main()`."""
        return bool(self.session_params(self.project.modules[ref[0]], ref[1])) and all(
            site.scope in caller_ix.functions or not site.scope and module_code.runs_as_script(
                self.project, caller_ix) for caller_ix, site in callers)

    def _shell_fits(self, ref: FunctionRef, io: set[FunctionRef],
                    group: dict[FunctionRef, str]) -> bool:
        """A plain sync route of a framework that awaits coroutine functions (FastAPI),
        taking one session and called by nothing in the project: it can become an `async def`
        whose body, unchanged, runs through `await session.run_sync(...)`."""
        project = self.project
        ix = project.modules[ref[0]]
        info = ix.functions[ref[1]]
        return ("." not in ref[1] and bool(info.decorators) and not info.is_async
                and not info.is_generator and not info.returns_query_object
                and not self.unknown_decorators(ref) and not self.sync_boundary(ref)
                and len(self.session_params(ix, ref[1])) == 1
                and not self._calls_async(ref, io, group)
                and not project.callers(ref) and not project.run_sync_callers(ref))

    def session_params(self, ix: ModuleIndex, scope: str) -> list[str]:
        return [p for p in ix.functions[scope].params
                if self.kinds.kind(ix, scope, p) is ObjKind.SESSION]

    def _calls_async(self, ref: FunctionRef, io: set[FunctionRef],
                     group: dict[FunctionRef, str]) -> bool:
        """It calls a function that becomes async, other than itself or one kept with it."""
        project = self.project
        ix = project.modules[ref[0]]
        return any(
            (callee := project.resolve_function(ix, site.scope, site.callee)) is not None
            and (callee in io or project.modules[callee[0]].functions[callee[1]].is_async)
            and callee != ref and callee not in group for site in project.calls_in(ix, ref[1]))

    def legacy_class(self, ix: ModuleIndex, dotted: str) -> bool:
        """A class with methods an incremental run leaves sync."""
        return self.project.class_with_method_in(ix, dotted, self.state.legacy)

    def instance_session(self, ix: ModuleIndex, scope: str, name: str) -> str | None:
        """For `name = LegacyRepo(session)`: the session the instance was built with."""
        for binding in self.project.bindings(ix, scope, name):
            if binding.origin == CALL and self.legacy_class(ix, binding.targets[0]):
                for arg in binding.call_args:
                    if arg and self.kinds.kind(ix, scope, arg) is ObjKind.SESSION:
                        return arg
        return None

    def relevant_scopes(self, ix: ModuleIndex,
                        async_functions: frozenset[FunctionRef] | None = None) -> set[str]:
        """Scopes (functions, classes) a rewrite pass must enter; the rest are skipped.

        Without `async_functions` (the local pass): a scope reading a SQLAlchemy/SQLModel
        name or a name that holds a session, sessionmaker, engine or connection. With it (the
        colouring pass): a scope that becomes async or calls a function that did.
        """
        if async_functions is None:
            kept = {q for m, q in self.state.keep_sync if m == ix.module}
            key = ("relevant_scopes", id(ix))
            found = self.shared.get(key)
            if found is None:  # the same for every run state: asked by the engine and the pass
                found = self.shared[key] = frozenset(self._local_relevant(ix))
            return {s for s in found if not any(s == k or s.startswith(f"{k}.") for k in kept)}
        relevant: set[str] = set()
        relevant |= {q for q in ix.functions if (ix.module, q) in async_functions}
        relevant |= {site.scope for site in ix.calls
                     if self.project.calls_into(ix, site, async_functions)}
        return _with_parents(relevant)

    def _local_relevant(self, ix: ModuleIndex) -> set[str]:
        """The local pass's scopes before the run state keeps any function sync."""
        relevant: set[str] = set()
        relevant |= ix.url_scopes
        mapped = {q for q in ix.classes if qualname(ix, q) in self.models.mapped_classes
                  or self.models.is_model_base(ix, q)}  # and the mixins they inherit
        relevant |= mapped | {q for q, f in ix.functions.items() if f.owner_class in mapped}
        relevant |= self.reads.model_parameter_scopes(ix)
        for scope, names in ix.names_read.items():
            # (the names' own test first, for every name: a name's kind is the costly part)
            if scope not in relevant and (any(self._sqlalchemy_name(ix, n) for n in names) or any(
                    self._sqlalchemy_related(ix, scope, n) for n in names)):
                relevant.add(scope)
        relevant |= self._session_attribute_calls(ix)
        return _with_parents(relevant)

    def _session_attribute_calls(self, ix: ModuleIndex) -> set[str]:
        """Scopes calling a method on an attribute that holds a session (`request.db.add()`,
        `self.request.dbsession.query(...)`) or on what a function returning one returns
        (`session_for(order).commit()`), which the names a scope reads do not show."""
        receivers = {(site.scope, site.callee.rpartition(".")[0]) for site in ix.calls
                     if site.callee.count(".") > 1 and "(" not in site.callee
                     or site.callee.count("().") == 1 and not site.callee.startswith("()")}
        sessions = (ObjKind.SESSION, ObjKind.FLASK_SESSION)
        return {scope for scope, receiver in receivers
                if (self.kinds.call_result_kind(ix, scope, receiver[:-2]) if receiver.endswith(
                    "()") else self.kinds.kind(ix, scope, receiver)) in sessions}

    def _sqlalchemy_name(self, ix: ModuleIndex, name: str) -> bool:
        """A renamed class, or `sa.` (whose attribute the index does not see)."""
        head = name.split(".")[0]
        return self.project.qualify(ix, name) in api.REWRITTEN_NAMES or self.project.qualify(
            ix, head) in ("sqlalchemy", "sqlmodel")

    def _sqlalchemy_related(self, ix: ModuleIndex, scope: str, name: str) -> bool:
        """What the local pass enters a scope for when it reads `name` (past
        `_sqlalchemy_name`, which `_local_relevant` asks first)."""
        if self.kinds.kind(ix, scope, name) in (ObjKind.SESSION, ObjKind.FACTORY,
                                                ObjKind.ENGINE, ObjKind.CONNECTION,
                                                ObjKind.FLASK_DB):
            return True
        mapped = self.models.mapped_class(ix, scope, name)  # `User.query` on a Flask model
        return mapped is not None and self.kinds.flask_db(mapped) is not None


def _with_parents(relevant: set[str]) -> set[str]:
    """A nested scope is reached through its parents."""
    for scope in list(relevant):
        parts = scope.split(".")
        relevant.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return relevant
