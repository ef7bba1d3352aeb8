"""SQA400's rule: which relationships a function reads on the objects a query loaded, and
the loader option each adds to that query."""

from __future__ import annotations

import libcst as cst

from ...index.shapes import ONE_OBJECT_TERMINALS
from ...results import Kind
from ...rewrite.build import arguments, comma, comma_separated, run_sync_lambda
from ..base import USERS_AND_ADDRESSES, Case, Rule
from .load_sites import LoadSite, LoadSites, loaded_root

# the last hop of a path whose objects are read for a column only their subclasses map
_POLYMORPHIC = "*"
_RUNS = frozenset({"scalars", "execute", "exec", "scalar"})
# calls handing back one object, whose relationships may be read on the spot
_ONE_LOADS = frozenset({"get", *ONE_OBJECT_TERMINALS})
_EAGER = frozenset({"selectin", "joined", "subquery", "immediate"})


class LoaderOptions(Rule):
    """Relationships read later are loaded by the query: no implicit lazy load under asyncio.

    A deferred column read afterwards gets `undefer(...)` the same way, a column only
    subclasses map `selectin_polymorphic([...])`. Loads are legacy queries (also kept in a
    variable), `session.get` and 2.0-style `session.scalars/execute/exec/scalar(select(E))`,
    also of a statement or result kept in a variable. Reads
    are followed through loops, comprehensions, containers, `y = x.rel`, `self.<attr>`, into
    the project functions the object is passed to (a few calls deep), back through callers of
    functions returning it, and into properties, `__str__`/`__repr__` (print, f-strings,
    logging) and pydantic schemas built from it. Collections get `selectinload`, many-to-one
    (and the way back to a collection's parent) `joinedload`; relationships the mapper already
    loads eagerly need nothing. Objects handed to code the tool cannot see, or read with a
    computed `getattr`, get a TODO at the query; `lazy="dynamic"` reads run in `session.run_sync`.
    """

    code = "SQA400"
    summary = "relationships read after a query → selectinload/joinedload options on it"
    cases = (
        Case("""
            from sqlalchemy.orm import Session

            from models import User


            def user_emails(session: Session) -> list[str]:
                return [f"{u.name}: {len(u.addresses)}" for u in session.query(User).all()]
        """, """
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import selectinload

            from models import User


            async def user_emails(session: AsyncSession) -> list[str]:
                return [f"{u.name}: {len(u.addresses)}" for u in (await session.scalars(select(User).options(selectinload(User.addresses)))).all()]
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
    )
    provides = frozenset({"loader_options"})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        # (scope, variable, relationship) of lazy="dynamic" reads → the session to run them on
        self.dynamic_reads: dict[tuple[str, str, str], cst.BaseExpression] = {}
        self.inner_calls: set[int] = set()  # calls whose result another call is made on
        self.iterated: set[int] = set()  # expressions a loop or comprehension iterates
        self.select_statements: set[int] = set()  # 2.0-style `select(E)...` that load objects
        self.loading_scopes: set[str] | None = None
        self.subclasses: dict[str, set[str]] = {}  # class → its subclasses mapping them

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.scope not in self._loading_scopes():
            return
        found, variables = LoadSites.find(node, self.ctx, self.select_statements)
        planned = [(site, self._plan(site)) for site in found.sites]
        for target, statement, what, value in found.unresolved:
            self._unresolved(target, statement, what, value)
        by_key: dict[int, dict[tuple[str, ...], list[tuple[str, str]]]] = {}
        for site, paths in planned:
            by_key.setdefault(site.key, {}).update({_path(p): p for p in paths})
        for name, variable in variables.items():
            keys = list(dict.fromkeys(s.key for s, _ in planned if s.statement == name))
            if not keys or len(keys) != variable.uses:
                continue  # read elsewhere too: each run gets what it needs
            # every use of `stmt = select(E)...` loads objects: what all of them need goes
            # onto the select where it is built, the rest onto the run that needs it
            shared = set.intersection(*(set(by_key.get(k, {})) for k in keys))
            if shared:
                first = by_key[keys[0]]
                for build in variable.builds or (variable.build,):
                    by_key[id(build)] = {p: first[p] for p in sorted(shared)}
                    if not variable.legacy:
                        self.select_statements.add(id(build))
                for k in keys:
                    by_key[k] = {p: h for p, h in by_key[k].items() if p not in shared}
        for key, paths in by_key.items():
            if paths:
                self.ctx.outputs.loader_options.setdefault(key, []).extend(
                    self._option(hops) for hops in paths.values())

    def _unresolved(self, target: str | None, statement: cst.CSTNode, what: str,
                    value: cst.BaseExpression) -> None:
        """Objects the tool cannot give options to (`what` says why: a statement built
        where it cannot follow it, a class it cannot tell): a TODO when relationships are
        read on them, where they are kept (`target`) or by the callers they are returned to."""
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        if target is not None:
            chains = plan.reads_on(ix, scope, target)[0]
            called = value.expression if isinstance(value, cst.Await) else value
            root = loaded_root(called, target)
            if root:
                chains |= plan.reads_on(ix, scope, root)[0]
        else:
            chains = plan.reads_on_result((ix.module, scope))[0]
        relationships = {attr for info in plan.mapped_classes.values()
                         for attr in info.relationships}
        read = sorted({c.split(".")[0] for c in chains} & relationships)
        if read:
            self.ctx.todo(self.code, f"{what}, and relationships of its objects are read "
                                     f"afterwards ({', '.join(read)}): add selectinload/"
                                     "joinedload options for them where it is built",
                          statement, at=statement)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        """`session.scalars(stmt)`: options only this run of the statement variable needs."""
        options = self.ctx.outputs.loader_options.get(id(original))
        if options and id(original) in self.select_statements:
            return cst.Call(func=cst.Attribute(value=updated, attr=cst.Name("options")),
                            args=arguments(options))
        return updated

    def _loading_scopes(self) -> set[str]:
        """Functions with a statement that loads objects (cheap, from the index)."""
        if self.loading_scopes is None:  # also runs of a statement variable: `scalars(stmt)`
            ix = self.ctx.ix
            self.loading_scopes = set(ix.loads) | {  # and `session.get(E, 1).rel` reads
                scope for scope, roots in ix.attribute_reads.items()
                if any(root.endswith("()") and root[:-2].rpartition(".")[2] in _ONE_LOADS
                       for root in roots)} | {
                site.scope for site in ix.calls
                if site.callee.rpartition(".")[2] in _RUNS and site.args and site.args[0]
                and not site.args[0].endswith("()")} | {  # and what finishers are handed
                scope for module, scope in self.ctx.plan.query_finishers
                if module == self.ctx.ix.module}
        return self.loading_scopes

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Call):
            self.inner_calls.add(id(node.func.value))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.iterated.add(id(node.iter))

    def visit_For(self, node: cst.For) -> None:
        self.iterated.add(id(node.iter))

    # -- deciding ---------------------------------------------------------------------------
    def _plan(self, site: LoadSite) -> list[list[tuple[str, str]]]:
        """The relationship paths to load for the objects of one load site (the TODOs for
        what cannot be decided are reported here)."""
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        if site.handed_to is not None:
            (module, function), param = site.handed_to
            chains, opaque = plan.reads_on(plan.modules[module], function, param, depth=1)
        elif site.variable is None:
            chains, opaque = plan.reads_on_result((ix.module, scope))
        elif site.variable.startswith("self."):  # kept on the instance, read by its methods
            chains, opaque = plan.reads_on_attribute(ix, scope, site.variable[5:])
        else:  # `for x in session.query(...)`: reads are filed under what x iterates
            chains, opaque = plan.reads_on(ix, scope, site.variable)
            function = ix.functions.get(scope)
            if function is not None and site.variable in function.produces:
                # returned or yielded (`for x in ...: yield x`): what callers read (a route's
                # response schema too)
                chains_of_callers, opaque_of_callers = plan.reads_on_result((ix.module, scope))
                chains |= chains_of_callers
                opaque += opaque_of_callers
            if site.root:
                chains_of_root, opaque_of_root = plan.reads_on(ix, scope, site.root)
                chains |= chains_of_root
                # the index files reads of every name iterating `session.scalars()` here
                # under it: what another of them is handed to says nothing about these
                shared = sum(root == site.root and not chain for root, chain in
                             ix.aliases.get(scope, {}).values()) > 1
                opaque += [] if shared else opaque_of_root
        paths: list[list[tuple[str, str]]] = []
        for chain in sorted(plan.implicit_reads(site.entity, chains)):
            hops = plan.relationship_paths(site.entity, chain)
            if self._dynamic_read(site, hops) or self._dynamic(hops, site.node):
                continue
            column = self._deferred_column(site.entity, hops, chain)
            if column:  # a deferred column read at the end of the path: undefer() it
                if (*(attr for _, attr in hops), column[1]) not in site.existing:
                    paths.append([*hops, column])
                continue
            owner = self._subclass_read(site.entity, hops, chain)
            if owner:  # a column only subclasses map: load the objects polymorphically
                if (*(attr for _, attr in hops), _POLYMORPHIC) not in site.existing:
                    paths.append([*hops, (owner, _POLYMORPHIC)])
                continue
            attrs = tuple(attr for _, attr in hops)
            if not hops or attrs in site.existing or all(self._eager(h) for h in hops):
                continue
            paths.append(hops)
        longest = [p for p in paths if not any(
            len(q) > len(p) and q[:len(p)] == p for q in paths)]
        unique = list({tuple(p): p for p in longest}.values())
        if unique:
            shown = ", ".join(".".join([hops[0][0].rpartition(".")[2]] + [
                a.replace(_POLYMORPHIC, "(subclass columns)") for _, a in hops])
                              for hops in unique)
            # the options themselves too: `lint` (SQA500) names the one to add
            options = ", ".join(cst.Module([]).code_for_node(self._option(h)) for h in unique)
            self.ctx.change(self.code, f"eager-load {shown} (read after the query): "
                                       f".options({options})", site.node)
        computed = sorted({chain.rpartition(".*")[0] or chain[:-1] for chain in chains
                           if chain == "*" or chain.endswith(".*")})
        if computed:
            where = ", ".join(f"{site.entity.rpartition('.')[2]}.{c}" if c else "the objects"
                              for c in computed)
            self.ctx.todo(self.code, f"getattr() reads attributes of {where} by a computed "
                                     "name: the tool cannot tell which relationships that "
                                     "loads; add loader options for them to this query",
                          site.node, at=site.node)
        unseen = sorted({name for name, chain in opaque
                         if self._passes_objects(site.entity, chain)})
        if unseen:
            self.ctx.todo(self.code, f"objects loaded here are passed to {', '.join(unseen)}(), "
                                     "which the tool cannot see into: if it reads "
                                     "relationships, add loader options to this query",
                          site.node, at=site.node)
        return unique

    def _passes_objects(self, entity: str, chain: str) -> bool:
        """`f(order)` / `f(order.lines)` hand over objects; `f(order.total)` a plain value."""
        parts = [p for p in chain.split(".") if p]
        return len(self.ctx.plan.relationship_paths(entity, chain)) == len(parts) if parts \
            else True

    def _deferred_column(self, entity: str, hops: list[tuple[str, str]],
                         chain: str) -> tuple[str, str] | None:
        """(class, column) when the chain reads a deferred column after its relationships."""
        parts = chain.split(".")
        if len(parts) <= len(hops):
            return None
        owner = self.ctx.plan.relationship_target(*hops[-1]) if hops else entity
        info = self.ctx.plan.mapped_classes.get(owner or "")
        column = parts[len(hops)]
        return (owner, column) if info and column in info.deferred else None

    def _back_to_parent(self, parent: tuple[str, str], hop: tuple[str, str]) -> bool:
        """`hop` is the other side of the collection `parent` (back_populates/backref)."""
        plan = self.ctx.plan
        out, back = plan.relationship(*parent), plan.relationship(*hop)
        if out is None or back is None or out.secondary or back.secondary or (
                out.uselist is False):
            return False
        return parent[1] in (back.back_populates, back.backref) or hop[1] in (
            out.back_populates, out.backref)

    def _eager(self, hop: tuple[str, str]) -> bool:
        relationship = self.ctx.plan.relationship(*hop)
        return relationship is not None and relationship.lazy in _EAGER

    def _dynamic_read(self, site: LoadSite, hops: list[tuple[str, str]]) -> bool:
        """`customer.notes.count()` on a lazy="dynamic" relationship of a loaded object:
        it runs inside `session.run_sync` (the AppenderQuery needs a sync session)."""
        if not hops or site.variable is None or site.session is None:
            return False
        relationship = self.ctx.plan.relationship(*hops[0])
        if relationship is None or relationship.lazy != "dynamic":
            return False
        self.dynamic_reads[(self.ctx.scope, site.variable, hops[0][1])] = site.session
        return True

    def _dynamic_session(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The session for a dynamic relationship read at the root of `expr`, if any."""
        node = expr
        while isinstance(node, cst.Call | cst.Attribute):
            if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
                found = self.dynamic_reads.get((self.ctx.scope, node.value.value,
                                                node.attr.value))
                if found is not None:
                    return found
            node = node.func if isinstance(node, cst.Call) else node.value
        return None

    def _run_sync(self, original: cst.CSTNode, expr: cst.BaseExpression,
                  session: cst.BaseExpression) -> cst.BaseExpression:
        call = run_sync_lambda(self.ctx.run_sync_receiver(session), cst.Name("_sync_session"),
                               expr)
        awaited = self.ctx.await_(self.code, call, original, "a lazy=\"dynamic\" read")
        if awaited is not call:
            self.ctx.report(self.code, Kind.RUN_SYNC, "lazy=\"dynamic\" relationship read "
                                                      "runs inside run_sync", original)
            return awaited
        return expr

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        session = self._dynamic_session(original.iter) if isinstance(
            original.iter, cst.Attribute) and not self.ctx.in_run_sync_lambda else None
        if session is None:
            return updated
        return updated.with_changes(iter=self._run_sync(original, _listed(updated.iter),
                                                        session))

    def _dynamic(self, hops: list[tuple[str, str]], node: cst.CSTNode) -> bool:
        for owner, attr in hops:
            relationship = self.ctx.plan.relationship(owner, attr)
            if relationship is not None and relationship.lazy in ("dynamic", "write_only"):
                self.ctx.todo(self.code, f"{owner.rpartition('.')[2]}.{attr} is "
                                         f"lazy={relationship.lazy!r}: read it with "
                                         f"`await session.scalars(obj.{attr}.statement)` or "
                                         "move it to WriteOnlyMapped", node, at=node)
                return True
        return False

    def _subclass_read(self, entity: str, hops: list[tuple[str, str]], chain: str
                       ) -> str | None:
        """The class whose objects the chain reads a column of that only its mapped
        subclasses map (`company.employees` then `engineer.language`)."""
        parts = chain.split(".")
        if len(parts) <= len(hops):
            return None
        owner = self.ctx.plan.relationship_target(*hops[-1]) if hops else entity
        subclasses = owner and self.ctx.plan.subclass_column(owner, parts[len(hops)])
        if not subclasses:
            return None
        self.subclasses.setdefault(owner, set()).update(subclasses)
        return owner

    def _option(self, hops: list[tuple[str, str]]) -> cst.BaseExpression:
        if hops[-1][1] == _POLYMORPHIC:
            # `selectinload(Workshop.staff).selectin_polymorphic([Carpenter, Foreman])`, or
            # `selectin_polymorphic(Worker, [...])` for the queried objects themselves
            owner = hops[-1][0]
            subclasses = cst.List(comma_separated([
                cst.Element(self.ctx.project_reference(sub))
                for sub in sorted(self.subclasses.get(owner, ()))]))
            if len(hops) == 1:
                return cst.Call(func=cst.Name(self.ctx.import_name(
                    "sqlalchemy.orm", "selectin_polymorphic")), args=arguments([
                        self.ctx.project_reference(owner), subclasses]))
            return cst.Call(func=cst.Attribute(value=self._option(hops[:-1]),
                                               attr=cst.Name("selectin_polymorphic")),
                            args=arguments([subclasses]))
        expr: cst.BaseExpression | None = None
        for position, (owner, attr) in enumerate(hops):
            loader = self.ctx.plan.loader(owner, attr)
            if position and self._back_to_parent(hops[position - 1], (owner, attr)):
                # `Company.employees` then `Person.company`: the parent each object came
                # from. A selectinload there re-runs for the parent (with populate_existing,
                # as on session.get, that resets the collection being loaded: MissingGreenlet)
                loader = "joinedload"
            target = cst.Attribute(value=self.ctx.project_reference(owner), attr=cst.Name(attr))
            if expr is None:
                expr = cst.Call(func=cst.Name(self.ctx.import_name("sqlalchemy.orm", loader)),
                                args=[cst.Arg(target)])
            else:
                expr = cst.Call(func=cst.Attribute(value=expr, attr=cst.Name(loader)),
                                args=[cst.Arg(target)])
        assert expr is not None
        return expr

    # -- session.get(E, pk): the rewrite adds the options itself ----------------------------
    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if self.dynamic_reads and isinstance(updated, cst.Call) and (
                id(original) not in self.inner_calls) and not self.ctx.in_run_sync_lambda:
            session = self._dynamic_session(original) or next(
                (found for arg in original.args if isinstance(arg.value, cst.Attribute)
                 and (found := self._dynamic_session(arg.value)) is not None), None)
            if session is not None:  # a query iterated outside would run there: list it
                return self._run_sync(original, _listed(updated) if id(original) in (
                    self.iterated) else updated, session)
        options = self.ctx.outputs.loader_options.get(id(original))
        if options and id(original) in self.select_statements:
            return cst.Call(func=cst.Attribute(value=updated, attr=cst.Name("options")),
                            args=arguments(options))
        if not options or not isinstance(updated, cst.Call) or not isinstance(
                updated.func, cst.Attribute) or updated.func.attr.value != "get":
            return updated
        args = list(updated.args)
        given = {a.keyword.value: i for i, a in enumerate(args) if a.keyword is not None}
        if "options" in given:  # a re-run, or options of the user's: add only the missing ones
            return _merged_options(updated, args, given, options)
        elements = comma_separated([cst.Element(o) for o in options])
        added = [(keyword, value) for keyword, value in (
            ("options", cst.List(elements)), ("populate_existing", cst.Name("True")))
            if keyword not in given]  # (`populate_existing=True` may be there already)
        args[-1] = args[-1].with_changes(comma=comma())
        for position, (keyword, value) in enumerate(added):
            args.append(cst.Arg(keyword=cst.Name(keyword), value=value, equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace("")), comma=cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" ")) if position < len(added) - 1 else
                cst.MaybeSentinel.DEFAULT))
        return updated.with_changes(args=args)


def _merged_options(call: cst.Call, args: list[cst.Arg], given: dict[str, int],
                    options: list[cst.BaseExpression]) -> cst.Call:
    """`session.get(E, pk, options=[...])` with the loader options it lacks appended (none:
    the call as it is; options that are not a list literal are the user's to extend)."""
    listed = args[given["options"]].value
    if not isinstance(listed, cst.List):
        return call
    code = cst.Module([]).code_for_node
    have = {code(element.value) for element in listed.elements}
    missing = [option for option in options if code(option) not in have]
    if not missing:
        return call
    elements = comma_separated([*listed.elements, *(cst.Element(o) for o in missing)])
    args[given["options"]] = args[given["options"]].with_changes(
        value=listed.with_changes(elements=elements))
    return call.with_changes(args=args)


def _path(hops: list[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(f"{owner}.{attr}" for owner, attr in hops)


def _listed(expr: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=cst.Name("list"), args=[cst.Arg(expr)])


