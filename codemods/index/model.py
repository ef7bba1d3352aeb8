"""The records of the project index: what `index_source` finds in one module.

Plain data, picklable (the index cache stores them); the facts they hold are described where
`indexer.py` collects them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Binding origins: how a name got its value.
CALL = "call"  # x = f(...)            target: dotted name of f
ENTER = "enter"  # with f(...) as x, x = next(f(...))   target: dotted name of f
ALIAS = "alias"  # x = y                 target: dotted name of y
PARAM = "param"  # def f(x: T)           target: dotted names in the annotation
QUERY = "query"  # x.query(E, ...)       target: E or E.col as written (x is a session)
TYPE = "type"  # X = Annotated[T, ...]   targets: dotted names in it (a type alias)
VALUE = "value"  # x = <anything else>   no target (it still shadows outer names)
ELEMENT = "element"  # x, y = f(...)     target: dotted name of f; `element`: x's position


@dataclass(frozen=True)
class Binding:
    name: str
    origin: str
    targets: tuple[str, ...]
    call_args: tuple[str | None, ...] = ()  # CALL: the dotted names passed (an instance's session)
    default: str | None = None  # PARAM: its default value as a dotted name (`factory=SESSIONS`)
    element: int = 0  # ELEMENT: the name's position in the tuple unpacked


@dataclass(frozen=True)
class CallSite:
    scope: str
    callee: str
    args: tuple[str | None, ...]  # dotted names passed, `f()` for a call's result, else None
    kwargs: tuple[tuple[str, str | None], ...]
    line: int
    # What happens to the result: the methods chained on it, then "for" (iterated) or
    # "value" (used otherwise): "filter.order_by.all|value", "|for"; "|coroutine": handed to
    # asyncio to run (`asyncio.run(f())`); "" when unknown.
    usage: str = ""
    # arguments that are a legacy query, not run (position or keyword → the query, whose
    # `session_param` is the head of the session's dotted name)
    queries: tuple[tuple[int | str, ReturnedQuery], ...] = ()


@dataclass(frozen=True)
class ReturnedQuery:
    """A function whose every return is a legacy query on one of its parameters, not run."""

    session_param: str
    args: tuple[str | None, ...]  # what the query selects, as dotted names
    steps: tuple[str, ...]  # the methods chained on it
    session_attrs: tuple[str, ...] = ()  # `request.dbsession.query(...)`: ("dbsession",)
    # `session = object_session(obj)` then `session.query(...)`: the session is that of the
    # object `session_param` names, and this is how the function calls `object_session`
    session_of_object: str | None = None


@dataclass
class FunctionInfo:
    qualname: str
    params: tuple[str, ...]
    decorators: tuple[str, ...]
    is_generator: bool
    owner_class: str | None
    # `return <value>`, or `yield from` whose value is used: a generator handing a value back
    hands_back_value: bool = False
    returns: tuple[str, ...] = ()  # dotted names in the return annotation
    produces: tuple[str, ...] = ()  # names it returns or yields, `f()` for a call's result
    # `return obj, True`: for each return of a tuple display, what each position holds (as
    # `produces` says it)
    returns_tuples: tuple[tuple[str | None, ...], ...] = ()
    returned_query: ReturnedQuery | None = None
    returns_query_object: bool = False  # a return value may be an unexecuted legacy Query
    # calls whose result it returns with only Query steps chained (`shapes.returned_calls`)
    returned_calls: tuple[str, ...] = ()
    # parameters it uses only as a legacy Query it runs (refines, then runs or iterates)
    query_params: tuple[str, ...] = ()
    response_model: tuple[str, ...] = ()  # names in a route decorator's `response_model=`
    is_async: bool = False  # `async def`
    # `getattr(self, <a name known only at run time>)`: a method reading attributes by name
    reads_by_name: bool = False
    # (callee, "pkg.mod.Name") of `patch("pkg.mod.Name")` calls whose mock the function hands
    # out: `with patch(...) as m: yield m`, `return mocker.patch(...)` (a fixture's, SQA308)
    hands_out_patches: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RelationshipInfo:
    attr: str
    target: str | None
    uselist: bool | None
    lazy: str | None
    backref: str | None = None  # `backref="user"` / `backref=backref("user", ...)`
    backref_lazy: str | None = None
    secondary: bool = False  # many-to-many
    back_populates: str | None = None  # the attribute of the other side it keeps in step
    remote_side: bool = False  # `remote_side=...`: a self-referential many-to-one


@dataclass
class ClassInfo:
    qualname: str
    bases: tuple[str, ...]
    keywords: dict[str, str]
    relationships: dict[str, RelationshipInfo] = field(default_factory=dict)
    abstract: bool = False
    unhashable: set[str] = field(default_factory=set)  # JSON/ARRAY/Pickle columns
    deferred: set[str] = field(default_factory=set)  # columns loaded only when read
    query_class: str | None = None  # Flask-SQLAlchemy `query_class = MyQuery` in the body
    decorators: tuple[str, ...] = ()  # dotted names (`as_declarative`, `reg.mapped`)
    table: str | None = None  # `__tablename__ = "teams"`
    # what its columns' foreign keys point to: table names (`ForeignKey("teams.id")`,
    # SQLModel's `foreign_key="teams.id"`) or class names (`ForeignKey(Team.id)`)
    foreign_keys: set[str] = field(default_factory=set)
    columns: set[str] = field(default_factory=set)  # attributes its body maps (not relationships)


@dataclass(frozen=True)
class TopLevelCall:
    """A module-level statement that is a call (`Base.metadata.create_all(bind=engine)`) or
    assigns one to a name (`app = FastAPI(title="notes")`)."""

    at: int  # its place among the module's statements, as libcst counts them (`a; b` is one)
    line: int
    callee: str
    args: tuple[str | None, ...]  # dotted names passed by position
    kwargs: tuple[tuple[str, str | None], ...]
    target: str | None = None  # the name it assigns
    suppressed: frozenset[str] = frozenset()  # codes its `# sqla-asyncify: ignore` comments name


# What an Alembic env.py or migration script imports: its running context.
_ALEMBIC_RUNTIME = ("alembic.context", "alembic.op")


def _names(qualified: str, prefixes: tuple[str, ...]) -> bool:
    """`qualified` is one of `prefixes` or a name inside one."""
    return any(qualified == p or qualified.startswith(f"{p}.") for p in prefixes)


@dataclass
class ModuleIndex:
    module: str
    path: str
    imports: dict[str, str] = field(default_factory=dict)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    module_names: set[str] = field(default_factory=set)
    names_read: dict[str, set[str]] = field(default_factory=dict)  # scope -> names it reads
    # scope -> the last names of dotted expressions it uses as values, not calling them
    # (`handlers = {"x": on_x}`, `listen(t, "e", self.on_flush)`, `return helper`)
    value_names: dict[str, set[str]] = field(default_factory=dict)
    url_scopes: set[str] = field(default_factory=set)  # scopes holding database URL literals
    url_dialects: set[str] = field(default_factory=set)  # their dialects: "postgresql", …
    # names assigned a database URL: scope -> name -> ("literal" (`URL = "sqlite://…"`) or
    # "environment" (`URL = os.environ.get("URL", "sqlite://…")`), the literal's scheme)
    url_names: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    # scope -> variable -> attribute chains read on it ("customer.email", "lines.book"),
    # following `y = x.rel`, `for y in x.rel` and comprehension targets back to `x`
    attribute_reads: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # scope -> variable -> (root variable, chain) it aliases (`for line in order.lines`)
    aliases: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    # scope → loop variable → the containers whose values it takes (`for person in results`,
    # `for name, fn in self.handlers.items()`: self.handlers), one per loop over another
    loop_sources: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # scope → name or `self.x` assigned a dict, list, tuple or set display → the dotted names
    # among its values (`self.handlers = {"flush": self.on_flush}`)
    displays: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # scope -> names (or `self.x`) bound from a `session.query(...)` chain, `session.get(E, pk)`
    # or a run select (objects loaded there); "return" when the function returns one directly
    loads: dict[str, set[str]] = field(default_factory=dict)
    # scope -> the session parameters of its run_sync lambdas (`run_sync(lambda s: ...)`: s)
    sync_sessions: dict[str, set[str]] = field(default_factory=dict)
    # scope -> relationship paths its `.options(...)` calls load ("lines", "lines.book")
    loaded_paths: dict[str, set[str]] = field(default_factory=dict)
    # `self.x = ...` in methods: class qualname -> (method scope, binding of x)
    attribute_bindings: dict[str, list[tuple[str, Binding]]] = field(default_factory=dict)
    has_bulk_listeners: bool = False
    # Pyramid `config.add_request_method(f, "db", reify=True)` registers `request.db`
    request_attributes: set[str] = field(default_factory=set)
    # `request.state.db = SessionLocal()`: (scope, binding named by the dotted target); not
    # `self.x = ...` (see attribute_bindings)
    attribute_stores: list[tuple[str, Binding]] = field(default_factory=list)
    # `db = SQLAlchemy(query_class=MyQuery)` at module level: "db" -> "MyQuery"
    query_classes: dict[str, str] = field(default_factory=dict)
    top_level_calls: list[TopLevelCall] = field(default_factory=list)
    # methods called on what a chain of calls returned (`manager(obj).fetcher().index(obj)`,
    # which `calls` does not name): (scope, "manager().fetcher().index")
    chained_calls: list[tuple[str, str]] = field(default_factory=list)
    # `properties={"batches": relationship(...)}` of a call (imperative mapping): its line ->
    # the relationships it declares (their targets as written here)
    mapping_properties: dict[int, tuple[RelationshipInfo, ...]] = field(default_factory=dict)
    # a function name defined again in the same statement list: its qualified name -> the
    # scope key of each of its definitions, in order (`login@1`, `login`; redefinitions.py)
    redefined: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # `from pkg.mod import *`: the modules named, in order (absolute)
    star_imports: list[str] = field(default_factory=list)
    # a literal `__all__` at module level: the names `import *` takes from the module
    exports: tuple[str, ...] | None = None
    # `calls` by scope, built on first use (`calls_in`)
    _calls_by_scope: dict[str, list[CallSite]] | None = field(
        default=None, init=False, repr=False, compare=False)

    def calls_in(self, scope: str) -> list[CallSite]:
        """The calls made in exactly `scope`, in the index's order (a lookup, not a scan: a
        big module has thousands of calls)."""
        if self._calls_by_scope is None:
            table: dict[str, list[CallSite]] = {}
            for site in self.calls:
                table.setdefault(site.scope, []).append(site)
            self._calls_by_scope = table
        return self._calls_by_scope.get(scope, [])

    @property
    def runs_under_alembic(self) -> bool:
        """An Alembic env.py or migration script: Alembic runs it synchronously. It takes
        `alembic.context` or `alembic.op`, which only mean something while Alembic runs the
        file; a module merely running Alembic's commands (`alembic.command.upgrade(cfg,
        "head")` in a CLI) is not one."""
        imported = self.imports.values()
        if any(_names(q, _ALEMBIC_RUNTIME) for q in imported):
            return True
        return any(q == "alembic" for q in imported) and any(  # `import alembic`
            _names(read, _ALEMBIC_RUNTIME) for names in self.names_read.values()
            for read in names)

    def qualify(self, dotted: str) -> str:
        """Resolve a dotted name as written in this module to a qualified name."""
        head, _, rest = dotted.partition(".")
        if head in self.imports:
            base = self.imports[head]
        elif head in self.module_names:
            base = f"{self.module}.{head}" if self.module else head
        else:
            return dotted
        return f"{base}.{rest}" if rest else base
