"""Reading a legacy `session.query(...)` chain and building the equivalent `select()`.

`unwind` splits `s.query(A).filter(x).order_by(y).first()` into its parts; `SelectBuilder`
turns the non-terminal steps into a `select()` statement and says what the rows hold, so the
terminal can be executed faithfully.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from .. import api_surface as api
from ..analysis import ObjKind
from . import build
from .build import comma_separated
from .context import Context, callee, dotted
from .traversal import Visitor


class Unsupported(Exception):
    """The chain has no faithful `select()` form here; the message says why."""


class RowShape(str, enum.Enum):
    ENTITY = "entity"  # one mapped class: rows are objects → session.scalars()
    MIXED = "mixed"  # at least one mapped class plus other elements: Rows
    COLUMNS = "columns"  # columns / expressions only: Rows, never de-duplicated


@dataclass
class QueryChain:
    session: cst.BaseExpression
    query_call: cst.Call | None  # `session.query(...)`; None when the chain starts at a variable
    steps: list[tuple[str, cst.Call]]  # method name and its call, innermost first
    variable: QueryVariable | None = None
    # the import `session` needs (Flask's `db` in a module that only imports the model),
    # added once a rewrite that names the session is kept
    session_import: tuple[str, str, str | None] | None = None
    known_kind: ObjKind | None = None  # what `session` is, when the chain's shape says it
    # `Model.query` through a project Query subclass: its name and the methods it defines
    query_class: tuple[str, frozenset[str]] | None = None
    made_up: bool = False  # `query_call` is built here (`Model.query`), not in the source

    def session_kind(self, ctx: Context) -> ObjKind | None:
        return self.known_kind or ctx.kind(self.session)


@dataclass
class QueryVariable:
    """Where a chain starts from a `select()` the rewrite made elsewhere: a local variable
    holding a converted query, or a call of a helper function that now returns one."""

    expr: cst.BaseExpression  # `q`, or `active_users(session)`
    session: cst.BaseExpression
    elements: list[Element]
    may_repeat_entities: bool
    joined: bool
    plain: bool = False  # `q = session.query(E)` and nothing more: `q.get(pk)` can convert
    # the entity a later filter_by() applies to after its joins, where that is known
    joined_to: cst.BaseExpression | None = None
    # what `session` is when its name says nothing yet (a parameter the rewrite adds)
    session_kind: ObjKind | None = None
    # built on one path by filters alone (at least one): its `whereclause` is what a bulk
    # delete()/update() of it matches
    filtered_only: bool = False


def unwind(expr: cst.BaseExpression,
           variables: dict[str, QueryVariable] | None = None) -> QueryChain | None:
    """The chain below `expr` if it starts with `<something>.query(...)` or a query variable."""
    steps: list[tuple[str, cst.Call]] = []
    node = expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        name = node.func.attr.value
        if name == "query":
            return QueryChain(node.func.value, node, list(reversed(steps)))
        steps.append((name, node))
        node = node.func.value
    if variables and isinstance(node, cst.Name) and node.value in variables:
        variable = variables[node.value]
        return QueryChain(variable.session, None, list(reversed(steps)), variable,
                          known_kind=variable.session_kind)
    return None


# The Query terminals and run verbs are in `index/shapes.py`, shared with the index.

# Query methods whose Select counterpart has the same name and meaning.
_SAME_NAME = frozenset({
    "where", "order_by", "group_by", "having", "limit", "offset", "slice", "join", "outerjoin",
    "options", "distinct", "select_from", "with_for_update", "execution_options", "params",
    "correlate", "add_columns",
})
_JOINS = frozenset({"join", "outerjoin"})
# Query methods that are execution options on a select().
_EXECUTION_OPTIONS = {"populate_existing": "populate_existing", "autoflush": "autoflush",
                      "yield_per": "yield_per"}
# Functions/methods producing column expressions rather than entities.
_COLUMN_METHODS = frozenset({"label", "desc", "asc", "distinct", "cast", "op", "collate",
                             "is_", "isnot", "in_", "like", "ilike", "concat", "exists",
                             "scalar_subquery"})


@dataclass
class Element:
    node: cst.BaseExpression
    entity: str | None  # qualified mapped class for entities (None = column or unknown class)
    is_entity: bool
    source: cst.BaseExpression | None  # the entity expression a column belongs to
    unhashable: bool = False  # a JSON/ARRAY column: legacy never de-duplicated such rows
    # a selected expression the tool cannot tell a mapped class from a column by
    # (`query(Book, read_column.value)`, `query(activity_cls)`)
    unknown: bool = False


def runs_alike(terminal: str, elements: list[Element]) -> bool:
    """`count()` counts the same rows whatever a selected expression is, and `first()` of a
    query selecting several gives a Row either way (legacy de-duplication changes nothing
    for one row)."""
    return terminal == "count" or terminal == "first" and len(elements) > 1


def unknown_elements(elements: list[Element]) -> str | None:
    """Why a statement with elements of unknown kind cannot be run here, if it has any."""
    shown = [cst.Module([]).code_for_node(e.node) for e in elements if e.unknown]
    return f"cannot tell whether `{shown[0]}` is a mapped class or a column" if shown else None


@dataclass
class Statement:
    """A built `select()` and what its rows hold."""

    expr: cst.BaseExpression
    elements: list[Element]
    may_repeat_entities: bool
    joined: bool
    where: list[cst.Arg] = field(default_factory=list)  # for delete()/update()
    streaming: cst.BaseExpression | None = None  # yield_per(n): the n
    imports: list[tuple[str, str, str | None]] = field(default_factory=list)
    execution_options: list[cst.Arg] = field(default_factory=list)
    joined_to: cst.BaseExpression | None = None  # the entity filter_by() applies to now

    @property
    def shape(self) -> RowShape:
        entities = sum(e.is_entity for e in self.elements)
        if entities == 1 and len(self.elements) == 1:
            return RowShape.ENTITY
        return RowShape.MIXED if entities else RowShape.COLUMNS

    @property
    def needs_unique(self) -> bool:
        """Legacy Query de-duplicated rows holding entities; `select()` must say `.unique()`.

        Rows carrying an unhashable value (JSON, ARRAY) were never de-duplicated by legacy
        Query, and `.unique()` would raise on them (checked on SQLAlchemy 2.x).
        """
        return (self.shape is not RowShape.COLUMNS and self.may_repeat_entities
                and not any(e.unhashable for e in self.elements))


def _step(call: cst.Call, stmt: cst.BaseExpression, name: str,
          args: list[cst.Arg] | None = None) -> cst.Call:
    """`stmt.name(args)` keeping the layout of the legacy step (line breaks before the dot)."""
    assert isinstance(call.func, cst.Attribute)
    return call.with_changes(func=call.func.with_changes(value=stmt, attr=cst.Name(name)),
                             args=call.args if args is None else args)


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(keyword=cst.Name(name), value=value,
                   equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                         whitespace_after=cst.SimpleWhitespace("")))


def _single_argument(call: cst.Call, name: str,
                     default: cst.BaseExpression | None = None) -> cst.BaseExpression:
    if not call.args and default is not None:
        return default
    if len(call.args) != 1 or call.args[0].keyword is not None:
        raise Unsupported(f"Query.{name}() with arguments the tool cannot map")
    return call.args[0].value


class SelectBuilder:
    """Builds the `select()` for a chain's non-terminal steps."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.imports: list[tuple[str, str, str | None]] = []  # added once the rewrite is kept

    # -- elements -------------------------------------------------------------------------------
    def element(self, arg: cst.Arg) -> Element:
        """What a selected expression is (`unknown` when the tool cannot tell)."""
        if arg.star:
            raise Unsupported("a starred argument hides what the query selects")
        node = arg.value
        name = dotted(node)
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        if name is not None:
            mapped = plan.mapped_class(ix, scope, name)
            if mapped is not None:
                return Element(node, mapped, True, node)
            if "." not in name and plan.is_alias(ix, scope, name) or plan.holds_some_model(
                    ix, scope, name):  # (a generic repository's `self.model: type[M]`)
                return Element(node, None, True, node)
            if ".c." in f".{name}":  # `table.c.col`, `subquery.c.col`
                return Element(node, None, False, None)
            if name.endswith(".__class__") and not self.ctx.async_target:
                # an object's class, so a mapped one: which, only the run knows, as the lazy
                # loads a sync session still does need no loader options
                return Element(node, None, True, node)
            if isinstance(node, cst.Attribute):
                owner = dotted(node.value)
                owner_class = owner and plan.mapped_class(ix, scope, owner)
                if owner_class or (owner and plan.is_alias(ix, scope, owner)):
                    info = plan.mapped_classes.get(owner_class or "")
                    return Element(node, None, False, node.value,
                                   unhashable=bool(info and node.attr.value in info.unhashable))
        if isinstance(node, cst.Call):
            callee = dotted(node.func) or ""
            qualified = self.ctx.qualify(node.func) or ""
            if qualified in api.ALIASED:
                return Element(node, None, True, node)
            method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
            if qualified.startswith("sqlalchemy.") or callee.startswith("func.") or (
                    method in _COLUMN_METHODS) or self._built_on_sql_function(node):
                return Element(node, None, False, None)
        if isinstance(node, (cst.BaseNumber, cst.BaseString)) or (
                isinstance(node, cst.Name) and node.value == "None"):
            return Element(node, None, False, None)  # (`query(X.a, None)`: a NULL column)
        return Element(node, None, False, None, unknown=True)

    def _built_on_sql_function(self, node: cst.Call) -> bool:
        """`exists().where(...)`, `func.max(X.n).filter(...)`: methods called on what a
        SQLAlchemy function (not `aliased()`) made, which is a SQL expression."""
        base: cst.BaseExpression = node
        while isinstance(base, cst.Call) and isinstance(base.func, cst.Attribute):
            base = base.func.value
        if base is node or not isinstance(base, cst.Call):
            return False
        qualified = self.ctx.qualify(base.func) or ""
        return qualified not in api.ALIASED and (qualified.startswith("sqlalchemy.") or (
            dotted(base.func) or "").startswith("func."))

    # -- the statement --------------------------------------------------------------------------
    def name(self, module: str, name: str,
             equivalents: frozenset[str] = frozenset()) -> cst.Name:
        """A name for the generated code; its import is added only if the rewrite happens."""
        local, key = self.ctx.local_name(module, name, equivalents)
        if key is not None:
            self.imports.append(key)
        return cst.Name(local)

    def build(self, chain: QueryChain, steps: list[tuple[str, cst.Call]],
              for_dml: bool = False, unknown_ok: bool = False) -> Statement:
        """The select() of `chain` with `steps`. `unknown_ok`: a selected expression of
        unknown kind is allowed (see `Element.unknown`): a statement only built here, or run
        by a terminal that gives the same answer whatever it is (`runs_alike`)."""
        stmt: cst.BaseExpression
        if chain.variable is not None:
            variable = chain.variable
            if for_dml and not variable.filtered_only:
                raise Unsupported("bulk update/delete on a query variable built by more than "
                                  "filters, or on several paths")
            elements, repeats = list(variable.elements), variable.may_repeat_entities
            stmt, joined, joined_to = variable.expr, variable.joined, variable.joined_to
        else:
            assert chain.query_call is not None
            elements = [self.element(a) for a in chain.query_call.args]
            if not elements:
                raise Unsupported("query() without arguments")
            stmt = chain.query_call.with_changes(
                func=self.name("sqlalchemy", "select", api.SELECT_FUNCTIONS),
                args=[a.with_changes(value=e.node) for a, e in zip(
                    chain.query_call.args, elements, strict=True)])
            repeats = any(e.is_entity and (e.entity is None or self.ctx.plan.joined_collections(
                e.entity)) for e in elements)
            joined, joined_to = False, None  # joined_to: what filter_by() applies to after a join
        where: list[cst.Arg] = [cst.Arg(cst.Attribute(value=stmt, attr=cst.Name(
            "whereclause")))] if for_dml and chain.variable is not None else []
        streaming = None
        options: list[cst.Arg] = []  # execution options, which count() must carry outside
        for name, call in steps:
            if for_dml and name not in ("filter", "where", "filter_by"):
                raise Unsupported(f"bulk update/delete after .{name}() (legacy refuses it too)")
            if name in ("filter", "where"):
                where.extend(call.args)
                stmt = _step(call, stmt, "where")
            elif name == "filter_by":
                if joined and joined_to is None:
                    raise Unsupported("filter_by() after a join whose target entity cannot be "
                                      "resolved (write .where(Entity.column == value))")
                criteria = self._filter_by(call, joined_to or self._primary(elements))
                where.extend(criteria)
                stmt = _step(call, stmt, "where", criteria)
            elif name in _SAME_NAME:
                if name == "execution_options":
                    options.extend(call.args)
                if name in _JOINS:
                    joined, joined_to = True, self._join_target(call)
                    repeats = repeats or self._join_repeats(call)
                if name == "options" and self._joins_eagerly(call):
                    repeats = True
                if name == "add_columns":
                    elements.extend(self.element(a) for a in call.args)
                stmt = _step(call, stmt, name)
            elif name in ("add_column", "add_entity"):
                elements.extend(self.element(a) for a in call.args)
                stmt = _step(call, stmt, "add_columns")
            elif name == "with_entities":
                # Legacy with_entities() derives the FROM list from the new columns, exactly
                # like with_only_columns() without maintain_column_froms (measured).
                elements = [self.element(a) for a in call.args]
                stmt = _step(call, stmt, "with_only_columns")
            elif name in _EXECUTION_OPTIONS:
                option = _EXECUTION_OPTIONS[name]
                value = _single_argument(call, name, cst.Name("True") if (
                    name == "populate_existing") else None)
                if name == "yield_per":
                    streaming = value
                options.append(_keyword(option, value))
                stmt = _step(call, stmt, "execution_options", [_keyword(option, value)])
            elif name == "with_parent":
                if len(call.args) != 2 or any(a.keyword for a in call.args):
                    raise Unsupported("with_parent() without an explicit relationship")
                criterion = cst.Call(func=self.name("sqlalchemy.orm", "with_parent"),
                                     args=comma_separated(list(call.args)))
                where.append(cst.Arg(criterion))
                stmt = _step(call, stmt, "where", [cst.Arg(criterion)])
            elif name == "enable_eagerloads":
                if _single_argument(call, name, cst.Name("True")).deep_equals(cst.Name("True")):
                    continue  # the default: nothing to say
                lazyload = cst.Call(func=self.name("sqlalchemy.orm", "lazyload"),
                                    args=[cst.Arg(cst.SimpleString('"*"'))])
                stmt = _step(call, stmt, "options", [cst.Arg(lazyload)])
            elif name in ("with_labels", "apply_labels"):
                style = self.name("sqlalchemy", "LABEL_STYLE_TABLENAME_PLUS_COL")
                stmt = _step(call, stmt, "set_label_style", [cst.Arg(style)])
            elif name == "reset_joinpoint":
                continue  # no joinpoint in 2.0: nothing to reset
            else:
                raise Unsupported(f"Query.{name}() has no faithful select() rewrite yet")
        unknown = None if unknown_ok else unknown_elements(elements)
        if unknown:
            raise Unsupported(unknown)
        return Statement(stmt, elements, repeats, joined, where, streaming, list(self.imports),
                         options, joined_to)

    def _join_repeats(self, call: cst.Call) -> bool:
        """Can this join repeat rows of the entities already selected? Not for many-to-one."""
        name = dotted(call.args[0].value) if call.args else None
        owner, _, attr = (name or "").rpartition(".")
        owner_class = owner and self.ctx.plan.mapped_class(self.ctx.ix, self.ctx.scope, owner)
        relationship = self.ctx.plan.relationship(owner_class or "", attr)
        return relationship is None or relationship.uselist is not False

    def _primary(self, elements: list[Element]) -> cst.BaseExpression:
        for element in elements:
            if element.source is not None:
                return element.source
        raise Unsupported("filter_by() with no entity to apply it to")

    def _filter_by(self, call: cst.Call, entity: cst.BaseExpression) -> list[cst.Arg]:
        criteria = []
        for arg in call.args:
            if arg.keyword is None:
                raise Unsupported("filter_by(**kwargs): the column names are not visible")
            criteria.append(cst.Arg(value=cst.Comparison(
                left=cst.Attribute(value=entity, attr=cst.Name(arg.keyword.value)),
                comparisons=[cst.ComparisonTarget(cst.Equal(), arg.value)])))
        return comma_separated(criteria)

    def _join_target(self, call: cst.Call) -> cst.BaseExpression | None:
        """The entity a join makes current for filter_by(); None if it cannot be known."""
        if not call.args or call.args[0].keyword is not None:
            raise Unsupported("join() without a target")
        if any(a.keyword and a.keyword.value in ("aliased", "from_joinpoint") for a in call.args):
            raise Unsupported("join(..., aliased=True) was removed in SQLAlchemy 2.0")
        target = call.args[0].value
        if isinstance(target, cst.BaseString):
            raise Unsupported("join() with a string target (removed in SQLAlchemy 2.0)")
        name = dotted(target)
        if name is None:
            return None
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        if plan.mapped_class(ix, scope, name) or plan.is_alias(ix, scope, name):
            return target
        owner, _, attr = name.rpartition(".")
        owner_class = plan.mapped_class(ix, scope, owner) if owner else None
        related = plan.relationship_target(owner_class, attr) if owner_class else None
        if related is None:
            return None
        for local in (related.rpartition(".")[2], *ix.imports):
            if plan.mapped_class(ix, scope, local) == related:
                return cst.Name(local)
        return None

    @staticmethod
    def _joins_eagerly(call: cst.Call) -> bool:
        found = []

        class _Find(Visitor):
            def visit_Name(self, node: cst.Name) -> None:
                if node.value in api.EAGER_JOINING_LOADERS:
                    found.append(node)

        _Find().walk(call)
        return bool(found)


def _peel(expr: cst.BaseExpression) -> tuple[list[tuple[str, cst.Call]], cst.BaseExpression]:
    """`root.a(...).b(...)` → ([("b", …), ("a", …)], root): method calls, outermost first."""
    steps: list[tuple[str, cst.Call]] = []
    node = expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        steps.append((node.func.attr.value, node))
        node = node.func.value
    return steps, node


def model_query_chain(expr: cst.BaseExpression, ctx: Context) -> QueryChain | None:
    """Flask-SQLAlchemy's `User.query.filter(...)`: a query on `db.session`."""
    steps, node = _peel(expr)
    if not (isinstance(node, cst.Attribute) and node.attr.value == "query"):
        return None
    model = dotted(node.value)
    plan, ix = ctx.plan, ctx.ix
    mapped = model and plan.mapped_class(ix, ctx.scope, model)
    db = mapped and plan.flask_db(mapped)
    if not db:
        return None
    db_expr, key = ctx.project_name(db)
    session = cst.Attribute(value=db_expr, attr=cst.Name("session"))
    query = cst.Call(func=cst.Attribute(value=session, attr=cst.Name("query")),
                     args=[cst.Arg(node.value)])
    return QueryChain(session, query, list(reversed(steps)), session_import=key,
                      known_kind=ObjKind.FLASK_SESSION, query_class=plan.custom_query(mapped),
                      made_up=True)


def helper_query_chain(expr: cst.BaseExpression, ctx: Context) -> QueryChain | None:
    """`active_users(session).order_by(...).all()` (also `queries.active_users(session)`)
    where the helper returns a select()."""
    plan, ix = ctx.plan, ctx.ix
    steps, node = _peel(expr)
    shape = None
    while shape is None:  # the innermost call that is a helper's: a module's function is
        name = callee(node.func) if isinstance(node, cst.Call) else None  # peeled as a step
        ref = name and plan.resolve_function(ix, ctx.scope, name)
        shape = plan.query_helpers.get(ref) if ref else None
        if shape is None and not steps:
            return None
        if shape is None:
            node = steps.pop()[1]
    # `request.dbsession` for the helper's `request`
    session = session_given(ctx, node, ref, shape.session_param, shape.session_attrs)
    if session is None:
        return None
    known, imported = None, None
    if shape.session_of_object:  # the session of the object handed to it, async or not
        known = ObjKind.SESSION
        local, imported = ctx.local_name(*(
            ("sqlalchemy.ext.asyncio", "async_object_session", api.ASYNC_OBJECT_SESSIONS)
            if ctx.async_target else
            ("sqlalchemy.orm", "object_session", api.OBJECT_SESSIONS)))
        session = build.call(cst.Name(local), build.arguments([session]))
    elements = [Element(cst.Name("_"), entity, flag, None)
                for entity, flag in zip(shape.entities, shape.is_entity, strict=True)]
    start = QueryVariable(node, session, elements, shape.may_repeat_entities, shape.joined)
    return QueryChain(session, None, list(reversed(steps)), start, session_import=imported,
                      known_kind=known)


def session_given(ctx: Context, call: cst.Call, ref: tuple[str, str], param: str,
                  attrs: Sequence[str] = ()) -> cst.BaseExpression | None:
    """What `call` (of the function `ref`) hands its parameter `param`, with `attrs` taken
    on it (`request.dbsession`): the argument, or for the method's own `self` the object it
    is called on; None when the call does not say."""
    plan = ctx.plan
    params = plan.modules[ref[0]].functions[ref[1]].params
    name = callee(call.func) or ""
    position = params.index(param) - plan.implicit_self(name, ref)
    given: cst.BaseExpression | None
    if position < 0:  # the helper's own `self`: the object the method is called on
        given = call.func.value if isinstance(call.func, cst.Attribute) else None
    else:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        given = next((a.value for a in call.args if a.keyword is not None
                      and a.keyword.value == param),
                     positional[position].value if position < len(positional) else None)
    if given is None:
        return None
    for attr in attrs:
        given = cst.Attribute(value=given, attr=cst.Name(attr))
    return given
