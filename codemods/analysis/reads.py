"""Relationship reads: which attribute chains code reads on model objects (`Reads`), and
whether the objects a function gets were loaded by a query the tool sees (`Loads`)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from .. import api_surface as api
from ..index import ALIAS, CALL, ELEMENT, PARAM, ModuleIndex
from .kinds import Kinds, ObjKind
from .models import Models
from .project import FunctionRef, Project, through_run_sync

# Builtins read no relationship of their arguments (printing reads what __repr__ reads, which
# SQA401 reports on the model); container methods only store objects.
_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# Calls that convert their arguments to text, and the method that conversion runs.
CONVERTING_BUILTINS = {"print": "__str__", "str": "__str__", "format": "__str__",
                        "repr": "__repr__"}
_LOGGING_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception",
                              "critical", "log"})
_STORING = frozenset({"append", "extend", "add", "insert", "appendleft", "put", "setdefault",
                      "update", "remove", "discard"})
_ASYNCIO_RUN = "asyncio.run"  # returns what the coroutine it runs returns
# close what they wrap once done (a generator); they read nothing of it
_CLOSING = frozenset({"contextlib.closing", "contextlib.aclosing"})

FoundReads = tuple[set[str], list[tuple[str, str]]]  # chains read; (callee, chain) not followed


def _joined(prefix: str, chain: str) -> str:
    return ".".join(filter(None, (prefix, chain)))


class Reads:
    """What code reads on model objects, following them into the functions they go to
    (state-free; `model_parameter_scopes` is cached per module)."""

    def __init__(self, project: Project, models: Models, kinds: Kinds) -> None:
        self.project, self.models, self.kinds = project, models, kinds
        self._model_parameter_scopes: dict[str, set[str]] = {}

    # -- schemas --------------------------------------------------------------------------------
    def schema_reads(self, class_qualname: str, depth: int = 0) -> set[str]:
        """What building the schema from an object reads on it (`from_attributes`): its
        fields, the fields of nested schemas below them, inherited fields."""
        project = self.project
        found = project.lookup(class_qualname)
        if class_qualname not in self.models.schema_classes or found is None or depth > 4:
            return set()
        ix, cls = found
        chains: set[str] = set()
        for binding in ix.bindings.get(cls, []):
            if binding.origin != PARAM or binding.name.startswith("_") or (
                    binding.name == "model_config"):
                continue
            chains.add(binding.name)
            for nested in {project.qualify(ix, t) for t in binding.targets} - {class_qualname}:
                chains |= {f"{binding.name}.{c}" for c in self.schema_reads(nested, depth + 1)}
        for base in ix.classes[cls].bases:
            chains |= self.schema_reads(project.qualify(ix, base), depth + 1)
        return chains

    def response_schema_reads(self, ref: FunctionRef) -> set[str]:
        """What FastAPI reads on a route's return value to build its response: the fields
        of its `response_model=` (or of the return annotation) when that is a project
        schema."""
        ix = self.project.modules[ref[0]]
        info = ix.functions[ref[1]]
        if not any(d.rpartition(".")[2] in api.ROUTE_METHODS and "." in d
                   for d in info.decorators):
            return set()
        return {c for name in info.response_model or info.returns
                for c in self.schema_reads(self.project.qualify(ix, name))}

    # -- what reading a member runs -------------------------------------------------------------
    def implicit_reads(self, class_qualname: str, chains: Iterable[str], depth: int = 0
                       ) -> set[str]:
        """`chains` plus what they run implicitly: `order.total` where `total` is a property
        reading `self.lines.quantity` adds "lines.quantity"; `print(order)` (chain
        "__str__") adds what `__str__`, else `__repr__`, reads on self. Followed along
        relationship hops, so "customer.__repr__" expands on the customer's class."""
        expanded = set(chains)
        for chain in chains:
            hops = self.models.relationship_paths(class_qualname, chain)
            parts = chain.split(".")
            if len(parts) <= len(hops) or depth > 3:
                continue
            owner = self.models.relationship_target(*hops[-1]) if hops else class_qualname
            member = parts[len(hops)]
            reads = self._member_reads(owner, member) if owner else None
            if reads:
                prefix = ".".join(parts[:len(hops)])
                inner = self.implicit_reads(owner, reads, depth + 1)
                expanded |= {_joined(prefix, c) for c in inner}
        return expanded

    def _member_reads(self, class_qualname: str, member: str) -> set[str] | None:
        """Chains on `self` that reading `member` of an instance runs: a property's or a
        method's body, or `__str__`/`__repr__` for string conversion; None for plain
        attributes. Members inherited from project base classes count."""
        names = ("__str__", "__repr__") if member == "__str__" else (member,)
        pending, seen = [class_qualname], set()
        while pending:
            qualified = pending.pop(0)
            found = self.project.lookup(qualified)
            if found is None or qualified in seen or found[1] not in found[0].classes:
                continue
            seen.add(qualified)
            ix, cls = found
            for name in names:
                function = ix.functions.get(f"{cls}.{name}")
                if function is None:
                    continue
                # a property runs on reading; a method is read to be called
                # (`product.available()`): what either reads on self is read on the instance
                return ix.attribute_reads.get(function.qualname, {}).get("self", set())
            pending += [self.project.qualify(ix, base) for base in ix.classes[cls].bases]
        return None

    # -- reads on a variable --------------------------------------------------------------------
    def reads_on(self, ix: ModuleIndex, scope: str, variable: str, depth: int = 0) -> FoundReads:
        """Attribute chains read on `variable` in `scope`, including in the project functions
        it is passed to (a few calls deep); and the calls it goes to that cannot be followed,
        as (callee, chain of what is passed: "" for the variable itself)."""
        project = self.project
        chains = set(ix.attribute_reads.get(scope, {}).get(variable, ()))
        opaque: list[tuple[str, str]] = []
        aliases = ix.aliases.get(scope, {})
        owner = project.owner_class(ix, scope)
        for method, binding in ix.attribute_bindings.get(owner or "", []) if depth < 3 else ():
            if method == scope and binding.origin == ALIAS and binding.targets[0] == variable:
                kept, unseen = self.reads_on_attribute(ix, scope, binding.name, depth + 1)
                chains |= kept  # `self.order = order`: what the class's methods read on it
                opaque += unseen
        for site in map(through_run_sync, project.calls_in(ix, scope)):
            for arg in (*site.args, *(value for _, value in site.kwargs)):
                if arg is None:
                    continue
                head, _, chain = arg.partition(".")
                root, prefix = aliases.get(head, (head, ""))
                if root != variable:
                    continue
                prefix = _joined(prefix, chain)
                target = project.resolve_function(ix, site.scope, site.callee)
                if target is None:
                    conversion = self._string_conversion(ix, site.callee)
                    schema, _, method = site.callee.rpartition(".")
                    schema = project.qualify(ix, schema) if method in (
                        api.SCHEMA_FROM_OBJECT) else ""
                    if schema in self.models.schema_classes:  # `OrderOut.model_validate(order)`
                        chains |= {_joined(prefix, c) for c in self.schema_reads(schema)}
                    elif conversion:
                        chains.add(_joined(prefix, conversion))
                    elif not self._reads_nothing(ix, site.scope, site.callee):
                        opaque.append((site.callee, prefix))
                    continue
                if depth >= 3:
                    continue
                target_ix = project.modules[target[0]]
                for param in project.parameters_given(site, target, arg):
                    inner, inner_opaque = self.reads_on(target_ix, target[1], param, depth + 1)
                    chains |= {_joined(prefix, c) for c in inner}
                    opaque += [(name, _joined(prefix, c)) for name, c in inner_opaque]
        return chains, opaque

    def reads_on_attribute(self, ix: ModuleIndex, scope: str, attr: str, depth: int = 0
                           ) -> FoundReads:
        """`reads_on` for objects kept in `self.<attr>`: what every method of the class (of
        the method `scope`) reads on them, and where they go that cannot be followed."""
        owner = self.project.owner_class(ix, scope)
        chains: set[str] = set()
        opaque: list[tuple[str, str]] = []
        for name, info in ix.functions.items():
            if owner is None or info.owner_class != owner:
                continue
            found, unseen = self.reads_on(ix, name, "self", depth)
            for chain in found:
                head, _, rest = chain.partition(".")
                if head == attr and rest:
                    chains.add(rest)
            opaque += [(callee, chain.partition(".")[2]) for callee, chain in unseen
                       if chain.partition(".")[0] == attr]
        return chains, opaque

    def _string_conversion(self, ix: ModuleIndex, callee: str) -> str | None:
        """"__str__"/"__repr__" for calls that turn what they get into text: print(),
        str(), repr(), format() and logging calls."""
        head, _, method = callee.rpartition(".")
        if not head:
            return CONVERTING_BUILTINS.get(callee) if callee not in ix.imports else None
        qualified = self.project.qualify(ix, callee)
        logs = qualified.startswith("logging.") or "log" in head.lower()
        return "__str__" if logs and method in _LOGGING_METHODS else None

    def _reads_nothing(self, ix: ModuleIndex, scope: str, callee: str) -> bool:
        """Calls that read no relationship of what they get: builtins, container methods,
        SQLAlchemy's own API (a session loads what it needs inside its awaited calls), and
        model constructors (`Review(book=book)` sets attributes; a backref append to an
        unloaded collection is queued without loading it)."""
        head = callee.split(".")[0]
        if head in ix.sync_sessions.get(scope, ()):  # `run_sync(lambda s: s.query(...))`
            return True
        if (head in _BUILTINS and head not in ix.imports) or "()." in callee or (
                callee.rpartition(".")[2] in _STORING) or self.models.mapped_class(
                    ix, scope, callee) or (
                callee.endswith(".run_sync")):  # its lambda's calls are call sites of their own
            return True
        qualified = self.project.qualify(ix, callee)
        if qualified == _ASYNCIO_RUN or qualified in _CLOSING:
            return True  # they hand on what they get (asyncio.run's result: reads_on_result)
        receiver = callee.rpartition(".")[0]  # `db.session.refresh`: the session's own API
        return qualified.startswith(("sqlalchemy.", "sqlmodel.")) or any(
            self.kinds.kind(ix, scope, name) in (ObjKind.SESSION, ObjKind.CONNECTION,
                                                 ObjKind.ENGINE, ObjKind.FACTORY)
            for name in dict.fromkeys((head, receiver)) if name)

    def reads_on_result(self, ref: FunctionRef, seen: frozenset[FunctionRef] = frozenset()
                        ) -> FoundReads:
        """Attribute chains callers read on what a function returns (`order = get(s, 1)`
        then `order.customer`, or `for o in orders(s): o.lines`), also through callers that
        hand the result on (`def require(s, i): order = get(s, i); ...; return order`)."""
        chains = self.response_schema_reads(ref)
        opaque: list[tuple[str, str]] = []
        project = self.project
        callers = [*project.callers(ref), *project.run_sync_callers(ref), *(
            caller for base in project.overridden(ref) for caller in project.callers(base))]
        for caller_ix, site in callers:
            # `x = f(...)`; where an earlier run left f synchronous, `x = session.run_sync(f,
            # ...)` (that call is the site) or `session.run_sync(lambda s: f(...))`
            # (the index files results of run_sync calls under the function they run)
            handed = site.args[0] if site.callee.endswith(".run_sync") else site.callee
            # `asyncio.run(f(...))` hands back what f returns
            for result in [handed, *(s.callee for s in project.calls_in(caller_ix, site.scope)
                                     if s.args and s.args[0] == f"{handed}()"
                                     and project.qualify(caller_ix, s.callee) == _ASYNCIO_RUN)]:
                found, unseen = self._reads_on_call_result(caller_ix, site.scope, result,
                                                           seen | {ref})
                chains |= found
                opaque += unseen
        return chains, opaque

    def _reads_on_call_result(self, ix: ModuleIndex, scope: str, callee: str,
                              seen: frozenset[FunctionRef]) -> FoundReads:
        """What `scope` reads on the results of its calls of `callee`, also through its own
        callers where it returns them."""
        names = {b.name for b in ix.bindings.get(scope, [])  # also `a, b = f()`: each
                 if b.origin in (CALL, ELEMENT) and b.targets[0] == callee}
        chains: set[str] = set()
        opaque: list[tuple[str, str]] = []
        for name in [*names, f"{callee}()"]:
            found, unseen = self.reads_on(ix, scope, name)
            chains |= found
            opaque += unseen
        caller = ix.functions.get(scope)
        passer = (ix.module, scope)
        if caller is not None and passer not in seen and len(seen) < 4 and any(  # 3 deep
                produced in names or produced == f"{callee}()" for produced in caller.produces):
            found, unseen = self.reads_on_result(passer, seen)
            chains |= found
            opaque += unseen
        return chains, opaque

    def paths_loaded_by(self, ref: FunctionRef, depth: int = 0) -> set[str]:
        """Relationship paths the loader options in a function (and in the functions whose
        results it returns) load: what callers may read on its result without I/O."""
        ix = self.project.modules[ref[0]]
        paths = set(ix.loaded_paths.get(ref[1], ()))
        for produced in ix.functions[ref[1]].produces if depth < 3 else ():
            callees = [produced[:-2]] if produced.endswith("()") else [
                b.targets[0] for b in self.project.bound_in(ix, ref[1], produced)
                if b.origin == CALL]
            for name in callees:
                target = self.project.resolve_function(ix, ref[1], name)
                if target is not None and target != ref:
                    paths |= self.paths_loaded_by(target, depth + 1)
        return paths

    def model_parameter_scopes(self, ix: ModuleIndex) -> set[str]:
        """Functions with a parameter typed as a mapped class (`def f(o: Order)`) that read a
        relationship of it which may load lazily, even where no SQLAlchemy name is in sight,
        and the methods of classes keeping such a parameter (`self.order = order`)."""
        if ix.module in self._model_parameter_scopes:
            return self._model_parameter_scopes[ix.module]
        models = self.models
        found = set()
        for scope, reads in ix.attribute_reads.items():
            if scope not in ix.functions:
                continue
            for binding in ix.bindings.get(scope, []):
                chains = reads.get(binding.name) if binding.origin == PARAM else None
                mapped = chains and models.annotated_class(ix, scope, binding.targets)
                if mapped and any(models.loads_implicitly(*hop) for chain in self.implicit_reads(
                        mapped, chains) for hop in models.relationship_paths(mapped, chain)):
                    found.add(scope)
                    break
        keeping = {scope for scope, b in (kept for pairs in ix.attribute_bindings.values()
                                          for kept in pairs) if b.origin == ALIAS}
        typed = {scope for scope in keeping if any(  # `self.order = order`, `order: Order`
            b.origin == PARAM and models.annotated_class(ix, scope, b.targets)
            for b in ix.bindings.get(scope, []))}
        owners = {ix.functions[scope].owner_class for scope in typed if scope in ix.functions}
        found |= {q for q, f in ix.functions.items() if f.owner_class in owners - {None}}
        self._model_parameter_scopes[ix.module] = found
        return found


class Loads:
    """Whether objects come from a query this run adds loader options to (the SQA400
    analysis). Depends on the run's legacy functions, whose queries get no options."""

    def __init__(self, project: Project, legacy: frozenset[FunctionRef]) -> None:
        self.project, self.legacy = project, legacy

    def untraced_sources(self, ref: FunctionRef, param: str, depth: int = 0) -> list[str]:
        """Where a parameter's objects come from when the tool cannot trace them to a query
        it adds loader options to (the SQA400 analysis): such callers as "module.function()"
        (no line: TODO texts must not change when lines move), or "no caller" when nothing
        in the project calls the function. [] means every caller hands over objects loaded
        a few calls up."""
        callers = self.project.callers(ref)
        if not callers:
            return ["no caller"]
        untraced = []
        for caller_ix, site in callers:
            passed = [arg for arg in (*site.args, *(v for _, v in site.kwargs))
                      if arg is not None and param in self.project.parameters_given(
                          site, ref, arg)]
            if not passed or not all(self._traced(caller_ix, site.scope, arg, depth)
                                     for arg in passed):
                name = f"{caller_ix.module}.{site.scope}" if caller_ix.module != ref[0] else (
                    site.scope or "<module>")
                if f"{name}()" not in untraced:
                    untraced.append(f"{name}()")
        return untraced

    def _traced(self, ix: ModuleIndex, scope: str, arg: str, depth: int) -> bool:
        """`arg` (a dotted name in `scope`) holds objects a query the tool sees loaded."""
        head = arg.partition(".")[0]
        root = ix.aliases.get(scope, {}).get(head, (head, ""))[0]
        loads = ix.loads.get(scope, ())
        if arg in loads or head in loads or root in loads:  # arg: also `session.get()`
            return True
        aliases = ix.aliases.get(scope, {})
        if any(aliases.get(loaded, ("",))[0] == root for loaded in loads):
            return True  # `for x in rows` on `rows = (await s.scalars(...)).all()`: one root
        if root.endswith("()"):  # `for x in repo.orders(s)`
            target = self.project.resolve_function(ix, scope, root[:-2])
            return target is not None and self.returns_loaded(target, depth + 1)
        function = ix.functions.get(scope)
        if function is not None and root in function.params:
            # the SQA400 analysis follows objects three calls into the functions they go to
            return depth < 2 and not self.untraced_sources((ix.module, scope), root, depth + 1)
        return self._bound_by_loading_call(ix, scope, root, depth + 1)

    def _bound_by_loading_call(self, ix: ModuleIndex, scope: str, name: str, depth: int
                               ) -> bool:
        """`name = repo.get(i)`: bound by a call of a function returning loaded objects."""
        return any(b.origin == CALL and (target := self.project.resolve_function(
            ix, scope, b.targets[0])) is not None and self.returns_loaded(target, depth)
            for b in self.project.bound_in(ix, scope, name))

    def returns_loaded(self, ref: FunctionRef, depth: int = 0) -> bool:
        """The function returns objects a query in it (or in what it calls) loaded, and
        this run migrates it (a legacy function's queries get no loader options)."""
        if ref in self.legacy:
            return False
        ix = self.project.modules[ref[0]]
        loads = ix.loads.get(ref[1], set())
        if "return" in loads:
            return True
        if depth > 3:
            return False
        for produced in ix.functions[ref[1]].produces:
            if produced.endswith("()"):
                target = self.project.resolve_function(ix, ref[1], produced[:-2])
                if target is not None and self.returns_loaded(target, depth + 1):
                    return True
            elif produced in loads or self._bound_by_loading_call(ix, ref[1], produced,
                                                                  depth + 1):
                return True
        return False
