"""SQA405: relationship reads on objects no traced query loads: a TODO at the read."""

from __future__ import annotations

import libcst as cst

from ..index import ALIAS, PARAM
from ..rewrite.context import dotted
from ..rewrite.reads import statement_reads
from .base import USERS_AND_ADDRESSES, Case, Rule

# Mapper and session events fired inside an awaited flush, commit or query.
_FLUSH_AND_LOAD_EVENTS = frozenset({
    "before_insert", "after_insert", "before_update", "after_update", "before_delete",
    "after_delete", "before_flush", "after_flush", "after_flush_postexec", "before_commit",
    "load", "refresh", "refresh_flush"})


class UntracedReads(Rule):
    """Relationship reads on objects whose query the tool cannot see get a TODO at the read.

    The objects are parameters typed as a model (or kept from one: `self.order = order`)
    whose callers are not all traced to a query SQA400 adds loader options to — public
    functions, callbacks, objects from attributes, containers or outside code, chains deeper
    than the analysis follows — or results of functions an incremental run leaves
    synchronous. Listeners of flush and load events run inside the greenlet and are exempt.
    """

    code = "SQA405"
    summary = "relationship reads on objects no traced query loads → TODO at the read"
    cases = (
        Case("""
            from models import Address


            def label(address: Address) -> str:
                return address.user.name
        """, """
            from models import Address


            def label(address: Address) -> str:
                # TODO(sqla-asyncify SQA405): Address.user may load lazily here (MissingGreenlet): nothing in the project calls label(), so the tool cannot see the query these objects come from: load them there with joinedload(Address.user), or read `await address.awaitable_attrs.user` (AsyncAttrs mixin)
                return address.user.name
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        function = ix.functions.get(scope)
        if function is None:
            return
        typed = {b.name: mapped for b in ix.bindings.get(scope, [])
                 if b.origin == PARAM and b.name in function.params
                 and b.name not in ("self", "cls")
                 and (mapped := plan.annotated_class(ix, scope, b.targets))}
        # results of functions this run leaves synchronous (they run in session.run_sync),
        # filed under the call (`found = f(...)`, `for x in f(...)`): their queries get no
        # loader options, so only what their own options load is safe to read
        legacy: dict[str, tuple[str, str, set[str]]] = {}  # root -> (class, function, paths)
        for site in plan.calls_in(ix, scope) if plan.legacy else ():
            ref = plan.resolve_function(ix, scope, site.callee)
            if ref in plan.legacy:
                target_ix = plan.modules[ref[0]]
                mapped = plan.annotated_class(target_ix, "",
                                              target_ix.functions[ref[1]].returns)
                if mapped:
                    legacy[f"{site.callee}()"] = (mapped, f"{ref[0]}.{ref[1]}",
                                                  plan.paths_loaded_by(ref))
        kept = self._kept_objects(function.owner_class)
        if not typed and not legacy and not kept or self._flush_listener(node):
            return  # the statement scan below is the costly part
        reported: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        sources: dict[str, list[str]] = {}
        for statement, chain in statement_reads(node):
            head, _, rest = chain.partition(".")
            root, prefix = ix.aliases.get(scope, {}).get(head, (head, ""))
            if root == "self":  # `self.order.customer`, `for line in self.order.lines`
                if prefix:
                    attr, _, prefix = prefix.partition(".")
                else:
                    attr, _, rest = rest.partition(".")
                root = f"self.{attr}"
            if root in kept:
                entity, method, param = kept[root]
                loaded = set()
                if root not in sources:
                    sources[root] = plan.untraced_sources((ix.module, method), param)
            elif root in typed:
                entity, loaded = typed[root], set()
            elif root in legacy:
                entity, origin, loaded = legacy[root]
            else:
                continue
            skipped = len(prefix.split(".")) if prefix else 0  # hops `head` stands after
            # only loads this read triggers: `x` of `for x in order.lines` was loaded by the
            # read of `order.lines`
            lazy = sorted({hops for read in plan.implicit_reads(
                entity, {".".join(filter(None, (prefix, rest)))})
                if len(hops := self._lazy_hops(entity, read, loaded)) > skipped} - {
                key[1] for key in reported if key[0] == root})
            if not lazy:
                continue
            if root in legacy:
                why = (f"these objects come from {origin}(), which this run leaves "
                       "synchronous: migrate its module in this run (the tool then adds the "
                       "loader options), or load them in its query with")
            else:
                if root not in sources:
                    sources[root] = plan.untraced_sources((ix.module, scope), root)
                if not sources[root]:
                    continue
                if root in kept:
                    method, param = kept[root][1:]
                    why = (f"{root} is set from {param} of {method}(); "
                           f"{self._untraced(sources[root], method)}")
                else:
                    why = self._untraced(sources[root])
            reported |= {(root, hops) for hops in lazy}
            shown = root if head == "self" else head  # the object the statement reads
            self.ctx.todo(self.code, self._message(shown, skipped, lazy, why), statement,
                          at=statement)

    def _flush_listener(self, node: cst.FunctionDef) -> bool:
        """A listener of a flush or load event runs inside the awaited flush/query, in the
        sync world of its greenlet, where a lazy load still works (attribute events and
        validators run in the caller's code: they are checked like any function)."""
        name = node.name.value
        events = [d.decorator.args[1].value for d in node.decorators
                  if isinstance(d.decorator, cst.Call) and len(d.decorator.args) >= 2
                  and (dotted(d.decorator.func) or "").endswith("listens_for")]
        listened = any(site.callee.rpartition(".")[2] == "listen" and name in site.args
                       for site in self.ctx.ix.calls)
        return listened or any(isinstance(e, cst.SimpleString) and e.evaluated_value in (
            _FLUSH_AND_LOAD_EVENTS) for e in events)

    def _lazy_hops(self, entity: str, chain: str, loaded: set[str]
                   ) -> tuple[tuple[str, str], ...]:
        """The relationship hops of `chain` up to the last one that may load lazily (not
        eager in the mapper, not among the `loaded` paths)."""
        hops = [tuple(hop) for hop in self.ctx.plan.relationship_paths(entity, chain)]
        while hops and (not self.ctx.plan.loads_implicitly(*hops[-1]) or ".".join(
                attr for _, attr in hops) in loaded):
            hops.pop()
        return tuple(hops)  # type: ignore[return-value]

    def _kept_objects(self, owner: str | None) -> dict[str, tuple[str, str, str]]:
        """Objects a method keeps from its typed parameter (`self.order = order`):
        "self.order" → (class, method, parameter), when that is the attribute's only source."""
        ix = self.ctx.ix
        kept: dict[str, tuple[str, str, str]] = {}
        unknown: set[str] = set()
        for method, binding in ix.attribute_bindings.get(owner or "", []):
            key = f"self.{binding.name}"
            param = binding.targets[0] if binding.origin == ALIAS else None
            entity = param and next((self.ctx.plan.annotated_class(ix, method, b.targets)
                                     for b in ix.bindings.get(method, [])
                                     if b.origin == PARAM and b.name == param), None)
            if entity and param in ix.functions[method].params:
                kept[key] = (entity, method, param)
            else:
                unknown.add(key)
        return {key: value for key, value in kept.items() if key not in unknown}

    def _untraced(self, sources: list[str], function: str | None = None) -> str:
        """Why the objects are untraced: no caller of `function` (this one by default), or
        callers handing over objects of unknown origin."""
        if sources == ["no caller"]:
            name = (function or self.ctx.scope).removesuffix(".__init__").rpartition(".")[2]
            return (f"nothing in the project calls {name}(), so the tool cannot see the query "
                    "these objects come from: load them there with")
        more = f" (and {len(sources) - 1} more)" if len(sources) > 1 else ""
        return (f"its caller {sources[0]}{more} passes objects the tool cannot trace to a "
                "query: load them where they are queried with")

    def _message(self, shown: str, skipped: int, lazy: list[tuple[tuple[str, str], ...]],
                 why: str) -> str:
        plan = self.ctx.plan
        reads = ", ".join(" → ".join(f"{owner.rpartition('.')[2]}.{attr}" for owner, attr in hops)
                          for hops in lazy)
        options = ", ".join(".".join(f"{plan.loader(owner, attr)}({owner.rpartition('.')[2]}"
                                     f".{attr})" for owner, attr in hops) for hops in lazy)
        return (f"{reads} may load lazily here (MissingGreenlet): {why} {options}, or read "
                f"`await {shown}.awaitable_attrs.{lazy[0][skipped][1]}` "
                "(AsyncAttrs mixin)")
