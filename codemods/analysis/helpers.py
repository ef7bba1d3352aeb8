"""Query helpers: functions returning a legacy query that their callers chain on and run.

The rewrite turns each into a function returning a `select()`, executed at its call sites.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..api_surface import OBJECT_SESSIONS
from ..index import FunctionInfo, ModuleIndex, ReturnedQuery
from ..index.shapes import BUILDER_STEPS
from .kinds import Kinds, ObjKind
from .models import Models
from .project import FunctionRef, Project

# The parameter a query finisher gets for the session its callers' queries ran on.
FINISHER_SESSION = "session"

# Steps a caller may chain on a helper's query, and the terminals that run it.
_HELPER_STEPS = frozenset({"filter", "where", "order_by", "limit", "offset", "slice", "options",
                           "distinct", "join", "outerjoin", "group_by", "having"})
_HELPER_TERMINALS = frozenset({"all", "first", "one", "one_or_none", "scalar", "count"})


@dataclass(frozen=True)
class HelperShape:
    """What the select() a query helper returns holds (see `Plan.query_helpers`)."""

    entities: tuple[str | None, ...]  # qualified mapped class per element (None: column/alias)
    is_entity: tuple[bool, ...]
    may_repeat_entities: bool
    joined: bool
    session_param: str
    session_attrs: tuple[str, ...]  # the session is this attribute path of the parameter
    session_of_object: bool = False  # the session is that of the object the parameter names


@dataclass(frozen=True)
class FinisherShape:
    """A function handed a legacy Query it runs (see `Plan.query_finishers`)."""

    param: str  # the parameter holding the query
    position: int  # its place among the parameters (`self` counted, for a method)
    entity: str  # the mapped class every caller's query selects (qualified)
    session_param: str | None  # its own session parameter; None: it gets `session=`
    may_repeat_entities: bool  # rows legacy Query de-duplicated: `.unique()`
    names_entity: bool = False  # it calls filter_by() on the query: the entity is imported


def _usage_followed(usage: str) -> bool:
    """Chained steps the rewrite knows, ending in a terminal or iterated by a `for`."""
    methods, _, end = usage.partition("|")
    steps = methods.split(".") if methods else []
    if steps and steps[-1] in _HELPER_TERMINALS:
        steps = steps[:-1]
    elif end != "for":
        return False
    return all(step in _HELPER_STEPS for step in steps)


class Helpers:
    """The query helpers of one run: only functions outside the run's context modules,
    called only from outside them (context code is not rewritten)."""

    def __init__(self, project: Project, models: Models, kinds: Kinds,
                 context: frozenset[str]) -> None:
        self.project, self.models, self.kinds, self.context = project, models, kinds, context
        self._helpers: dict[FunctionRef, HelperShape] | None = None
        self._finishers: dict[FunctionRef, FinisherShape] | None = None

    @property
    def query_finishers(self) -> dict[FunctionRef, FinisherShape]:
        """Functions handed a legacy query of one mapped class that they refine and run
        (`paginate(session.query(Ticket).filter(...), page)`): each is handed the select()
        and the session instead (a `session` keyword when it has no session parameter),
        and runs it there. Every caller is rewritten in this run and hands it a query built
        in the call, on a session."""
        if self._finishers is None:
            self._finishers = {}
            for ix in self.project.modules.values():
                if ix.module in self.context:
                    continue
                for qualname, info in ix.functions.items():
                    shape = self._finisher_shape(ix, qualname, info) if (
                        info.query_params) else None
                    if shape is not None:
                        self._finishers[(ix.module, qualname)] = shape
        return self._finishers

    def _finisher_shape(self, ix: ModuleIndex, qualname: str,
                        info: FunctionInfo) -> FinisherShape | None:
        ref = (ix.module, qualname)
        method = info.owner_class is not None and qualname == (
            f"{info.owner_class}.{qualname.rpartition('.')[2]}") and info.params[:1] == ("self",)
        if "." in qualname and not method or info.is_async or info.is_generator or (
                info.decorators) or method and self.project.same_method(ref):
            return None  # a function or plain method, no override: no wrapper in between
        param = info.query_params[0]
        own = [p for p in info.params if self.kinds.kind(ix, qualname, p) is ObjKind.SESSION]
        if len(own) > 1 or not own and (FINISHER_SESSION in info.params or FINISHER_SESSION in (
                ix.names_read.get(qualname, ()))):
            return None
        position = info.params.index(param)
        entities = set()
        eager = False  # a caller's query has loader options (a joined eager load?)
        callers = self.project.callers(ref)
        for caller, site in callers:
            queries = dict(site.queries)
            query = queries.get(position - self.project.implicit_self(site.callee, ref)) or (
                queries.get(param))
            if caller.module in self.context or site.scope not in caller.functions or (
                    query is None or len(query.args) != 1 or query.args[0] is None):
                return None  # (module-level code could not await it)
            session = ".".join([query.session_param, *query.session_attrs])
            if self.kinds.kind(caller, site.scope, session) is not ObjKind.SESSION or own and (
                    self.project.argument_for(site, ref, own[0]) != session):
                return None
            entities.add(self.models.mapped_class(caller, site.scope, query.args[0]))
            eager = eager or "options" in query.steps
        if not callers or len(entities) != 1 or None in entities:
            return None
        entity = entities.pop()
        names_entity = any(site.callee.startswith(f"{param}.") and "filter_by" in site.callee
                           for site in ix.calls_in(qualname))
        if names_entity and ix.module in self.project.importers(entity.rpartition(".")[0]):
            return None  # importing the entity there would import the module in a cycle
        return FinisherShape(param, position, entity, own[0] if own else None,
                             eager or bool(self.models.joined_collections(entity)),
                             names_entity)

    @property
    def query_helpers(self) -> dict[FunctionRef, HelperShape]:
        """Functions returning a legacy query that callers chain on and run: each becomes a
        function returning a `select()`, executed at its call sites (all rewritten in this
        run, all using it in a way the rewrite can follow)."""
        if self._helpers is None:
            self._helpers = {}
            for ix in self.project.modules.values():
                if ix.module in self.context:
                    continue
                for qualname, info in ix.functions.items():
                    if info.returned_query is None:
                        continue
                    ref = (ix.module, qualname)
                    shape = self._helper_shape(ix, qualname, info.returned_query)
                    callers = self.project.callers(ref)
                    if shape and callers and all(
                            caller.module not in self.context and _usage_followed(site.usage)
                            for caller, site in callers):
                        self._helpers[ref] = shape
        return self._helpers

    def _helper_shape(self, ix: ModuleIndex, scope: str,
                      query: ReturnedQuery) -> HelperShape | None:
        if any(step not in BUILDER_STEPS for step in query.steps):
            return None  # it runs the query (`.all()`) or uses a step the rewrite won't follow
        if query.session_of_object and self.project.qualify(
                ix, query.session_of_object) not in OBJECT_SESSIONS:
            return None
        models = self.models
        entities: list[str | None] = []
        is_entity: list[bool] = []
        for arg in query.args:
            if arg is None:
                return None  # an expression the index cannot classify
            mapped = models.mapped_class(ix, scope, arg)
            owner = arg.rpartition(".")[0]
            if mapped or models.is_alias(ix, scope, arg):
                entities.append(mapped)
                is_entity.append(True)
            elif owner and (models.mapped_class(ix, scope, owner) or models.is_alias(ix, scope,
                                                                                     owner)):
                entities.append(None)
                is_entity.append(False)
            else:
                return None
        joined = any(step in ("join", "outerjoin") for step in query.steps)
        repeats = any(is_entity) and (joined or "options" in query.steps or any(
            e is None or models.joined_collections(e) for e, flag in zip(
                entities, is_entity, strict=True) if flag))
        return HelperShape(tuple(entities), tuple(is_entity), repeats, joined,
                           query.session_param, query.session_attrs,
                           query.session_of_object is not None)
