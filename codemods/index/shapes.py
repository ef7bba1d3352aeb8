"""Recognising shapes of `ast` expressions, and the one table of Query terminals and run verbs.

The table is shared by the index (stdlib `ast`) and by the rewrite and the rules (libcst), so
both sides agree on what runs a query. Where two readers need different sets, each set has its
own name saying why they differ.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace

from ..urls import looks_like_url
from .model import ReturnedQuery

# -- Legacy `Query` methods ------------------------------------------------------------------
# Terminals that run the query and keep their name on the 2.0 Result (`.all()` → `.all()`).
RESULT_METHODS = {"all": "all", "first": "first", "one": "one", "one_or_none": "one_or_none"}
# Terminals that hand back objects of the query's one entity.
OBJECT_TERMINALS = frozenset({*RESULT_METHODS, "get"})
# Terminals (legacy and 2.0-style) that hand back one object or row.
ONE_OBJECT_TERMINALS = frozenset({"first", "one", "one_or_none", "scalar", "scalar_one",
                                  "scalar_one_or_none"})


def one_loaded_root(variable: str, callee: str) -> str:
    """The name reads on `variable = <call>.first()` (and the other ONE_OBJECT_TERMINALS)
    are filed under: its own, so that two such loads in one function (the same call name
    once the first run made both `(await s.scalars(...)).first()`) do not share reads. The
    same for objects of a statement run (`for x in session.scalars(...)`, `xs =
    session.scalars(...).all()`): every run has the same call name, whatever it selects."""
    return f"{variable}={callee}()"


def root_callee(root: str) -> str:
    """`x=s.scalars()` (see `one_loaded_root`) → `s.scalars()`; other roots as they are."""
    return root.partition("=")[2] or root


def runs_a_statement(callee: str) -> bool:
    """`s.scalars`, `s.execute().scalars().unique`: a call name starting with a session's
    run of a statement (RUN_VERBS, STREAM_VERBS)."""
    return callee.partition("().")[0].rpartition(".")[2] in RUN_VERBS | STREAM_VERBS
# Every terminal that runs the query.
QUERY_TERMINALS = frozenset({*OBJECT_TERMINALS, "scalar", "count", "value", "values", "delete",
                             "update"})
# Methods that make a SQL construct of the query without running it (no session needed), and
# the Select method that does the same.
STATEMENT_TERMINALS = {"subquery": "subquery", "exists": "exists", "cte": "cte",
                       "scalar_subquery": "scalar_subquery", "as_scalar": "scalar_subquery",
                       "label": "label"}

# Query methods a query kept in a variable may be built with, the select() built the same way
# (anything else on the variable: it escapes and stays as it is).
BUILDER_STEPS = frozenset({"filter", "filter_by", "where", "order_by", "group_by", "having",
                           "limit", "offset", "slice", "join", "outerjoin", "options", "distinct",
                           "select_from", "with_for_update", "execution_options", "params",
                           "populate_existing", "autoflush", "with_parent", "enable_eagerloads",
                           "with_labels", "apply_labels", "reset_joinpoint"})

# -- 2.0-style runs of a statement -------------------------------------------------------------
# Session methods that run a statement such as `select()` (`exec`: SQLModel's Session).
RUN_VERBS = frozenset({"scalars", "execute", "exec", "scalar"})
# AsyncSession methods that stream a statement's rows. Only already-async code has them, so
# only the index looks for them; SQA400, which rewrites sync code, reads RUN_VERBS alone (it
# takes every verb but `execute` to hand out objects, which `stream` does not).
STREAM_VERBS = frozenset({"stream", "stream_scalars"})
# Methods on the Result of such a run that hand out its objects or rows.
RESULT_STEPS = frozenset({"scalars", "unique", *RESULT_METHODS, "scalar_one",
                          "scalar_one_or_none"})

# -- Schema ------------------------------------------------------------------------------------
# MetaData methods run on a sync connection, and how an engine opens it for them (DDL commits,
# reflection only reads).
DDL_METHODS = {"create_all": "begin", "drop_all": "begin", "reflect": "connect"}

# -- Builtins ----------------------------------------------------------------------------------
# Builtins whose result holds the objects of their first argument.
PASSING_ON = frozenset({"list", "sorted", "reversed", "tuple", "set", "frozenset", "iter", "next"})
# Builtins that consume an iterable: a query passed to them is run first.
# Column operators taking a query as their subquery (`col.in_(session.query(X.id))`).
IN_OPERATORS = frozenset({"in_", "notin_", "not_in"})
CONSUMERS = frozenset({"tuple", "set", "frozenset", "sorted", "max", "min", "any", "all", "sum",
                       "enumerate", "reversed", "dict"})

# -- asyncio -----------------------------------------------------------------------------------
# Functions that take a coroutine object and run or schedule it: the call of a coroutine
# function handed to one is not awaited where it is made (`asyncio.create_task(self._loop())`).
# Of them, those running what they are handed as tasks, beside each other and the caller.
_CONCURRENT_TAKERS = frozenset({"asyncio.create_task", "asyncio.ensure_future", "asyncio.gather",
                                "asyncio.wait", "asyncio.as_completed", "asyncio.Task"})
_COROUTINE_TAKERS = _CONCURRENT_TAKERS | {"asyncio.run", "asyncio.wait_for", "asyncio.shield",
                                          "asyncio.run_coroutine_threadsafe"}
# Their methods on an event loop or a task group, whatever the receiver is called.
_CONCURRENT_METHODS = frozenset({"create_task", "ensure_future"})
_COROUTINE_TAKING_METHODS = _CONCURRENT_METHODS | {"run_until_complete"}
# The last parts of both's names.
COROUTINE_TAKER_NAMES = _COROUTINE_TAKING_METHODS | {
    name.rpartition(".")[2] for name in _COROUTINE_TAKERS}


def runs_alongside(qualified: str | None, method: str | None) -> bool:
    """The coroutines handed to this call run as tasks, alongside each other and the
    code making the call (`gather`, `create_task`), not one at a time (`asyncio.run`)."""
    return qualified in _CONCURRENT_TAKERS or method in _CONCURRENT_METHODS


def runs_event_loop(qualified: str | None, method: str | None) -> bool:
    """`asyncio.run(coro)` / `loop.run_until_complete(coro)`: a new run of an event loop,
    which cannot start inside a running one."""
    return qualified == "asyncio.run" or method == "run_until_complete"


def takes_coroutines(qualified: str | None, method: str | None) -> bool:
    """A call of `qualified` (the called name, qualified by the module's imports), or of a
    `method` on some object, runs or schedules the coroutines it is handed."""
    return qualified in _COROUTINE_TAKERS or method in _COROUTINE_TAKING_METHODS


def dotted_name(node: ast.AST) -> str | None:
    """`a.b.c` for Name/Attribute chains, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def url_source(value: ast.expr) -> tuple[str, str] | None:
    """("literal", scheme) for a database URL literal, ("environment", scheme) for
    `os.environ.get(key, <URL>)` / `os.getenv(key, <URL>)` (a URL the environment may
    replace), else None; the scheme is the literal's (`postgresql+psycopg2`)."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str) and looks_like_url(
            value.value):
        return "literal", value.value.partition("://")[0]
    if isinstance(value, ast.Call) and (callee_name(value.func) or "").rpartition(".")[2] in (
            "get", "getenv"):
        default = next(filter(None, (url_source(a) for a in value.args[1:])), None)
        return ("environment", default[1]) if default else None
    if isinstance(value, ast.Call) and (drivername := url_drivername(value)) is not None:
        return ("literal", drivername.value) if isinstance(drivername.value, str) and (
            looks_like_url(f"{drivername.value}://")) else None
    if isinstance(value, ast.Call) and (callee_name(value.func) or "").rpartition(".")[2] == (
            "make_url") and value.args:
        return url_source(value.args[0])
    return None


def url_drivername(call: ast.Call) -> ast.Constant | None:
    """The dialect+driver literal of `URL.create("postgresql", ...)` or
    `url.set(drivername="postgresql")`."""
    callee = callee_name(call.func) or ""
    if callee == "URL.create" or callee.endswith(".URL.create"):
        given = call.args[0] if call.args else next(
            (k.value for k in call.keywords if k.arg == "drivername"), None)
    elif callee.endswith(".set"):
        given = next((k.value for k in call.keywords if k.arg == "drivername"), None)
    else:
        return None
    return given if isinstance(given, ast.Constant) else None


def default_name(value: ast.expr) -> str | None:
    """A parameter's default as the index keeps it: a dotted name (`factory=SESSIONS`), or
    `Depends(get_db)` for a call handing one dotted name (FastAPI's dependencies)."""
    if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords and (
            (func := dotted_name(value.func)) and (arg := dotted_name(value.args[0]))):
        return f"{func}({arg})"
    return dotted_name(value)


def produced(value: ast.expr) -> str | None:
    """What a `return`/`yield` hands out: a dotted name, or `f()` for a call's result."""
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call):
        callee = callee_name(value.func) or (  # `sessionmaker(bind=engine)()`
            f"{inner}()" if isinstance(value.func, ast.Call) and (
                inner := callee_name(value.func.func)) else None)
        return f"{callee}()" if callee else None
    return dotted_name(value)


def first_item_of(value: ast.expr) -> str | None:
    """`f` for `next(f(...))` (with or without a default): the first item `f` yields."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and (
            value.func.id == "next") and value.args and isinstance(value.args[0], ast.Call):
        return callee_name(value.args[0].func)
    return None


def runs_query(value: ast.expr, held: Held | None = None) -> bool:
    """`session.query(E)...` (any chain on it), `session.get(E, pk)`, or (awaited)
    `session.scalars(select(E)...)` and the other ways to run a `select()`; with `held`
    (the statement and query/result variables of the scope), also `session.scalars(stmt)`
    and `result.first()` / `q.all()` on such variables."""
    statements, results = held or (set(), set())
    node = value
    while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript, ast.Await)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                (node.func.attr == "query" and node.args)
                or (node.func.attr == "get" and len(node.args) >= 2)
                or (node.func.attr in RUN_VERBS | STREAM_VERBS and node.args
                    and (is_select(node.args[0]) or isinstance(node.args[0], ast.Name)
                         and node.args[0].id in statements))):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and node.id in results


# A statement variable (`stmt = select(E)...`), and variables holding a query or the result
# of running one (`q = session.query(E)`, `result = session.execute(stmt)`).
Held = tuple[set[str], set[str]]
# What may end the value of a variable that still holds a query or an unconsumed result.
HOLDING_STEPS = frozenset({*RUN_VERBS, *STREAM_VERBS, "unique", "query", "filter",
                           "filter_by", "where", "order_by", "join", "outerjoin", "options",
                           "limit", "offset", "distinct", "group_by", "execution_options"})


def note_held(held: Held, target: str, value: ast.expr) -> None:
    """Update `held` for `target = value`."""
    statements, results = held
    if isinstance(value, ast.Await):
        value = value.value
    root = value
    while isinstance(root, ast.Call) and isinstance(root.func, ast.Attribute):
        root = root.func.value
    statement = is_select(value) or (  # `stmt = stmt.where(...)`
        isinstance(root, ast.Name) and root.id == target and target in statements)
    result = not statement and isinstance(value, ast.Call) and isinstance(
        value.func, ast.Attribute) and value.func.attr in HOLDING_STEPS and runs_query(
            value, held)
    statements.discard(target)
    results.discard(target)
    if statement:
        statements.add(target)
    elif result:
        results.add(target)


def is_select(node: ast.expr) -> bool:
    """A `select(...)` statement, with any chain of methods on it."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    return isinstance(node, ast.Call) and (dotted_name(node.func) or "").rpartition(".")[2] in (
        "select", "Select")


def holding(value: ast.expr) -> ast.expr:
    """The expression whose objects `value` holds or is one of: `await x`, `xs[0]`,
    `sorted(xs, ...)`, `[o for o in xs if ...]`, `{o.id: o for o in xs}` → the `x`/`xs`."""
    while True:
        if isinstance(value, ast.Await):
            value = value.value
        elif isinstance(value, ast.Subscript):
            value = value.value
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and (
                value.func.id in PASSING_ON) and value.args:
            value = value.args[0]
        elif isinstance(value, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)) and (
                len(value.generators) == 1) and isinstance(
                    element := value.value if isinstance(value, ast.DictComp) else value.elt,
                    ast.Name) and isinstance(value.generators[0].target, ast.Name) and (
                element.id == value.generators[0].target.id):
            value = value.generators[0].iter
        else:
            return value


def without_subscripts(node: ast.expr) -> ast.expr:
    """`by_id[k].customer.email` → `by_id.customer.email`: an element's reads filed under the
    container, like a loop variable's."""
    if isinstance(node, ast.Attribute):
        inner = without_subscripts(node.value)
        return node if inner is node.value else ast.Attribute(value=inner, attr=node.attr)
    return without_subscripts(node.value) if isinstance(node, ast.Subscript) else node


def run_sync_target(call: ast.Call) -> str | None:
    """What `session.run_sync(f, ...)` or `session.run_sync(lambda s: f(...))` calls."""
    handed = call.args[0] if call.args else None
    if isinstance(handed, ast.Lambda) and isinstance(handed.body, ast.Call):
        return callee_name(handed.body.func)
    return dotted_name(handed) if handed is not None else None


def option_paths(option: ast.expr) -> list[str]:
    """`selectinload(A.lines).joinedload(L.book)` → ["lines", "lines.book"]."""
    attrs: list[str] = []
    node: ast.expr | None = option
    while isinstance(node, ast.Call):
        if node.args and isinstance(node.args[0], ast.Attribute):
            attrs.append(node.args[0].attr)
        func = node.func
        node = func.value if isinstance(func, ast.Attribute) else None
    attrs.reverse()
    return [".".join(attrs[:i]) for i in range(1, len(attrs) + 1)]


def chained_callee(func: ast.AST) -> str | None:
    """`a(x).b(y).c` → "a().b().c": a method of what two or more calls in a chain returned,
    from a dotted name called first (`callee_name` names one call: `a().c`)."""
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Call):
        return None
    parts = [func.attr]
    node: ast.AST = func.value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
            isinstance(node.func.value, ast.Call)):
        parts.append(f"{node.func.attr}()")
        node = node.func.value
    root = dotted_name(node.func) if isinstance(node, ast.Call) else None
    return ".".join([f"{root}()", *reversed(parts)]) if root and len(parts) > 1 else None


def callee_name(func: ast.AST) -> str | None:
    """What a call calls: `a.b.c`, or `Cls().method` for a method of a fresh instance."""
    dotted = dotted_name(func)
    if dotted is None and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        owner = dotted_name(func.value.func)
        return f"{owner}().{func.attr}" if owner else None
    return dotted




def annotation_names(node: ast.AST | None) -> tuple[str, ...]:
    """The dotted names in an annotation, also inside string (forward) references."""
    if node is None:
        return ()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return ()
    names: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Name, ast.Attribute)):
            dotted = dotted_name(sub)
            if dotted:
                names.append(dotted)
        elif sub is not node and isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            names.extend(annotation_names(sub))  # Mapped["User"], Optional["Session"]
    return tuple(names)


def keyword_text(call: ast.Call, name: str) -> str | None:
    """The source of keyword argument `name` (a string constant as its repr), if given."""
    for kw in call.keywords:
        if kw.arg == name:
            if isinstance(kw.value, ast.Constant):
                return repr(kw.value.value) if isinstance(kw.value.value, str) else str(
                    kw.value.value)
            return ast.unparse(kw.value)
    return None



def _builds_query(node: ast.AST, query_names: set[str]) -> bool:
    return any((isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                and sub.func.attr == "query") or (isinstance(sub, ast.Name)
                                                  and sub.id in query_names)
               for sub in ast.walk(node))


def returns_query_object(own: list[ast.AST], returns: list[ast.expr | None]) -> bool:
    """Whether a return value may be a legacy Query not run yet (`return q`, `return s.query(X)`,
    `return q.filter(...), n`) rather than rows (`return q.all()`) or what a function made of
    it (`return paginate(q, page)`: that function runs it)."""
    query_names = {t.id for node in own if isinstance(node, ast.Assign) and _builds_query(
        node.value, set()) for t in node.targets if isinstance(t, ast.Name)}
    return any(value is not None and _query_valued(value, query_names) for value in returns)


def returned_calls(own: list[ast.AST], returns: list[ast.expr | None]) -> tuple[str, ...]:
    """The calls whose result a return hands back with only Query steps chained on it, also
    through a variable (`return f(x).filter(...)`; `q = f(x)` … `return q.limit(n)`): where
    `f` builds a legacy Query, this function hands it on."""
    assigned: dict[str, set[str]] = {}
    for node in own:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, set()).update(_chained_calls(node.value, {}))
    return tuple(sorted({name for value in returns if value is not None
                         for name in _chained_calls(value, assigned)}))


def _chained_calls(node: ast.expr, assigned: dict[str, set[str]]) -> set[str]:
    found: set[str] = set()
    while isinstance(node, ast.Call | ast.Await):
        if isinstance(node, ast.Await):
            node = node.value
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_TERMINALS:
            return found
        name = callee_name(node.func)
        if name:
            found.add(name)
        if not isinstance(node.func, ast.Attribute):
            return found
        node = node.func.value
    if isinstance(node, ast.Name):
        found |= assigned.get(node.id, set())
    return found


def _query_valued(node: ast.expr, query_names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in query_names
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Attribute):
            return False
        if node.func.attr == "query":
            return True
        return node.func.attr not in QUERY_TERMINALS and _query_valued(node.func.value,
                                                                      query_names)
    if isinstance(node, ast.IfExp):
        return _query_valued(node.body, query_names) or _query_valued(node.orelse, query_names)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_query_valued(e, query_names) for e in node.elts)
    if isinstance(node, ast.Dict):
        return any(v is not None and _query_valued(v, query_names) for v in node.values)
    if isinstance(node, ast.Starred):
        return _query_valued(node.value, query_names)
    return False


def returned_query(value: ast.expr | None, params: set[str], own: list[ast.AST],
                   function: ast.FunctionDef | ast.AsyncFunctionDef) -> ReturnedQuery | None:
    """`session.query(X).filter(...)` on a parameter, with no terminal; or a variable that
    only ever holds one (`q = session.query(X)`, `q = q.filter(...)` under conditions)."""
    steps, root = _method_chain(value) if value is not None else ([], None)
    object_sessions = _object_sessions(own, params)
    if isinstance(root, ast.Name) and root.id not in params and (
            root.id not in object_sessions):  # `return q.order_by(...)`
        built = _built_query(root.id, params, own, function, object_sessions=object_sessions)
        return built and replace(built, steps=(*built.steps, *steps))
    return _chained_query(value, params, object_sessions)


def _object_sessions(own: list[ast.AST], params: set[str]) -> dict[str, tuple[str, str]]:
    """Locals bound once, to `object_session(<parameter>)` (as the function calls it): the
    local → (the parameter, the callee)."""
    stores: dict[str, int] = {}  # every binding counts: `for`, `with ... as`, tuples, ...
    found: dict[str, tuple[str, str]] = {}
    for node in own:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name) and isinstance(value := node.value, ast.Call) and (
                callee := dotted_name(value.func)) and callee.rpartition(".")[2] == (
                "object_session") and len(value.args) == 1 and not value.keywords and (
                isinstance(value.args[0], ast.Name)) and value.args[0].id in params:
            found[node.targets[0].id] = (value.args[0].id, callee)
    return {name: how for name, how in found.items()
            if stores.get(name) == 1 and name not in params}


def _built_query(name: str, params: set[str] | None, own: list[ast.AST],
                 function: ast.FunctionDef | ast.AsyncFunctionDef,
                 handed: bool = False,
                 object_sessions: dict[str, tuple[str, str]] | None = None
                 ) -> ReturnedQuery | None:
    """The query variable `name` a function builds and returns: one `session.query(...)`
    start, then `name = name.<builder step>(...)`; bound and read nowhere else (not even in a
    nested function), so the select() built the same way is all its callers see. `handed`:
    read instead only as a call's argument (on any session: `params` None)."""
    if params is not None and name in params:
        return None
    start: ReturnedQuery | None = None
    steps: list[str] = []
    allowed: set[int] = set()  # the assignments' targets, and reads that build on or return it
    for node in own:
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return None
        if not handed and isinstance(node, ast.Return) and node.value is not None:
            allowed.add(id(_method_chain(node.value)[1]))
        if handed and isinstance(node, ast.Call):
            allowed.update(id(a) for a in [*node.args, *(k.value for k in node.keywords)]
                           if isinstance(a, ast.Name) and a.id == name)
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name) and node.targets[0].id == name):
            continue
        allowed.add(id(node.targets[0]))
        chained = _chained_query(node.value, params, object_sessions)
        if chained is not None:
            if start is not None:
                return None  # two starts: what a caller gets depends on the path taken
            start = chained
            continue
        # `q = q.filter(...)`, or `q = q.filter(...) if c else q`
        branches = [node.value.body, node.value.orelse] if isinstance(
            node.value, ast.IfExp) else [node.value]
        for branch in branches:
            own_steps, root = _method_chain(branch)
            if not (isinstance(root, ast.Name) and root.id == name and (
                    own_steps or len(branches) == 2)):
                return None
            allowed.add(id(root))
            steps += own_steps
    uses = [n for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == name]
    if start is None or any(id(n) not in allowed for n in uses) or any(
            step not in BUILDER_STEPS for step in steps):
        return None
    return replace(start, steps=(*start.steps, *steps))


def _method_chain(value: ast.expr) -> tuple[list[str], ast.expr]:
    """`root.a(...).b(...)` → (["a", "b"], root)."""
    steps: list[str] = []
    node = value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        steps.append(node.func.attr)
        node = node.func.value
    return list(reversed(steps)), node


def _chained_query(value: ast.expr | None, params: set[str] | None,
                   object_sessions: dict[str, tuple[str, str]] | None = None
                   ) -> ReturnedQuery | None:
    """`session.query(X).filter(...)` on a parameter (or an attribute of one:
    `request.dbsession.query(X)`; `params` None: on any name), or on the session of an
    object a parameter names (`object_sessions`), with no terminal."""
    steps: list[str] = []
    node = value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        session = dotted_name(node.func.value) if node.func.attr == "query" else None
        head, *attrs = session.split(".") if session else [""]
        args = tuple(dotted_name(a) for a in node.args)
        if head and (params is None or head in params):
            return ReturnedQuery(head, args, tuple(reversed(steps)), tuple(attrs))
        if head and not attrs and object_sessions and head in object_sessions:
            param, how = object_sessions[head]
            return ReturnedQuery(param, args, tuple(reversed(steps)), session_of_object=how)
        steps.append(node.func.attr)
        node = node.func.value
    return None


# What a function handed a legacy Query may do with it for the rewrite to give it a select()
# and the session instead (see `query_params`): refine it, then run or iterate it
# (`filter_by()` names the entity there, which the rewrite imports).
FINISHER_STEPS = frozenset({"filter", "filter_by", "where", "order_by", "limit", "offset",
                            "options", "distinct"})
FINISHER_TERMINALS = frozenset({"all", "first", "one", "one_or_none", "count"})


def query_params(function: ast.FunctionDef | ast.AsyncFunctionDef, own: list[ast.AST],
                 params: list[str]) -> tuple[str, ...]:
    """Parameters the function uses only as a legacy Query it runs: each read of one starts
    `p.<steps>.<terminal>()` (no arguments to the terminal), is iterated by a `for`, or
    refines it in place (`p = p.<steps>`); it is read in no nested function."""
    allowed: set[int] = set()
    ran: set[str] = set()
    rebound: set[str] = set()
    for node in own:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in FINISHER_TERMINALS) and not node.args and not node.keywords:
            steps, base = _method_chain(node)
            if isinstance(base, ast.Name) and all(s in FINISHER_STEPS for s in steps[:-1]):
                allowed.add(id(base))
                ran.add(base.id)
        elif isinstance(node, (ast.For, ast.comprehension)):
            steps, base = _method_chain(node.iter)
            if isinstance(base, ast.Name) and all(s in FINISHER_STEPS for s in steps):
                allowed.add(id(base))
                ran.add(base.id)
        elif isinstance(node, ast.Assign):
            steps, base = _method_chain(node.value)
            target = node.targets[0] if len(node.targets) == 1 else None
            if isinstance(target, ast.Name) and isinstance(base, ast.Name) and (
                    base.id == target.id) and steps and all(s in FINISHER_STEPS for s in steps):
                allowed.add(id(base))
                allowed.add(id(target))
            else:
                rebound.update(t.id for t in ast.walk(node) if isinstance(t, ast.Name)
                               and isinstance(t.ctx, ast.Store))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr, ast.Delete)):
            rebound.update(t.id for t in ast.walk(node) if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            rebound.update(node.names)
    own_ids = {id(node) for node in own}
    found = []
    for param in params:
        if param not in ran or param in rebound:
            continue
        names = [n for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == param]
        if all(id(n) in own_ids and id(n) in allowed for n in names):
            found.append(param)
    return tuple(found)


def handed_queries(function: ast.FunctionDef | ast.AsyncFunctionDef,
                   own: list[ast.AST]) -> dict[str, ReturnedQuery]:
    """Query variables of a function read only as arguments of calls (`paginate(q, 1)`)."""
    started = {node.targets[0].id for node in own if isinstance(node, ast.Assign)
               and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
               and _chained_query(node.value, None) is not None}  # (the cheap test first)
    names = {a.id for node in own if started and isinstance(node, ast.Call)
             for a in [*node.args, *(k.value for k in node.keywords)]
             if isinstance(a, ast.Name) and a.id in started}
    found = {}
    for name in names:
        query = _built_query(name, None, own, function, handed=True)
        if query is not None:
            found[name] = query
    return found


def query_arguments(call: ast.Call, variables: dict[str, ReturnedQuery]
                    ) -> tuple[tuple[int | str, ReturnedQuery], ...]:
    """The arguments of a call that are a legacy query, not run (built in the call, or a
    variable of `handed_queries`), refined only by the steps a function handed it may take
    (`FINISHER_STEPS`)."""
    if any(isinstance(arg, ast.Starred) for arg in call.args):
        return ()  # positions past a `*args` are unknown
    found: list[tuple[int | str, ReturnedQuery]] = []
    for key, value in [*enumerate(call.args), *((k.arg, k.value) for k in call.keywords
                                                if k.arg)]:
        query = variables.get(value.id) if isinstance(value, ast.Name) else (
            _chained_query(value, None))
        if query is not None and all(step in FINISHER_STEPS for step in query.steps):
            found.append((key, query))
    return tuple(found)


def reads_by_name(own: list[ast.AST], receiver: str) -> bool:
    """`getattr(self, key)` with a name known only at run time (`receiver`: `self`)."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
               and node.func.id == "getattr" and len(node.args) >= 2
               and isinstance(node.args[0], ast.Name) and node.args[0].id == receiver
               and not isinstance(node.args[1], ast.Constant) for node in own)


def own_nodes(func: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function body, not descending into nested functions, classes or lambdas."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _patch_target(node: ast.AST | None) -> tuple[str, str] | None:
    """(callee, target) of `patch("pkg.mod.Name", ...)` (also `x.patch(...)`, and a
    patcher's `.start()`), for any callee named `patch`: the rule qualifies it."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
            node.func.attr == "start" and not node.args):
        node = node.func.value
    if not isinstance(node, ast.Call) or not node.args:
        return None
    callee, first = dotted_name(node.func), node.args[0]
    if callee is None or callee.rpartition(".")[2] != "patch" or not (
            isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    return callee, first.value


def handed_out_patches(own: list[ast.AST]) -> tuple[tuple[str, str], ...]:
    """The patches whose mocks a function (its own nodes) returns or yields: `with patch(T)
    as m` / `m = mocker.patch(T)` / `m = patch(T).start()` and `m` handed out, or the call
    handed out itself."""
    bound: dict[str, tuple[str, str]] = {}
    handed: list[ast.AST] = []
    started: dict[str, str] = {}  # `m = patcher.start()`: m -> patcher
    for node in own:
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            found = _patch_target(node.context_expr)
            if found:
                bound[node.optional_vars.id] = found
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            found, value = _patch_target(node.value), node.value
            if found:
                bound[node.targets[0].id] = found
            elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and (
                    value.func.attr == "start" and isinstance(value.func.value, ast.Name)):
                started[node.targets[0].id] = value.func.value.id
        elif isinstance(node, (ast.Return, ast.Yield)) and node.value is not None:
            handed.append(node.value)
    bound.update((mock, bound[patcher]) for mock, patcher in started.items()
                 if patcher in bound)
    found = [bound.get(value.id) if isinstance(value, ast.Name) else _patch_target(value)
             for value in handed]
    return tuple(dict.fromkeys(f for f in found if f))
