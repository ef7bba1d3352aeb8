"""The project index: one fast read of every module with the stdlib `ast` parser.

It records raw facts only — imports, classes (for mapped classes and their relationships),
functions, where names get their values, and calls between functions. Decisions over these facts
live in `plan.py`; nothing here knows which rule will use them.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..urls import looks_like_url

# Binding origins: how a name got its value.
CALL = "call"  # x = f(...)            target: dotted name of f
ENTER = "enter"  # with f(...) as x      target: dotted name of f
ALIAS = "alias"  # x = y                 target: dotted name of y
PARAM = "param"  # def f(x: T)           target: dotted names in the annotation
QUERY = "query"  # x.query(E, ...)       target: dotted name of E (evidence that x is a session)
VALUE = "value"  # x = <anything else>   no target (it still shadows outer names)


@dataclass(frozen=True)
class Binding:
    name: str
    origin: str
    targets: tuple[str, ...]
    call_args: tuple[str | None, ...] = ()  # CALL: the dotted names passed (an instance's session)


@dataclass(frozen=True)
class CallSite:
    scope: str
    callee: str
    args: tuple[str | None, ...]  # dotted names passed, `f()` for a call's result, else None
    kwargs: tuple[tuple[str, str | None], ...]
    line: int
    # What happens to the result: the methods chained on it, then "for" (iterated) or
    # "value" (used otherwise): "filter.order_by.all|value", "|for"; "" when unknown.
    usage: str = ""


@dataclass(frozen=True)
class ReturnedQuery:
    """A function whose every return is a legacy query on one of its parameters, not run."""

    session_param: str
    args: tuple[str | None, ...]  # what the query selects, as dotted names
    steps: tuple[str, ...]  # the methods chained on it


@dataclass
class FunctionInfo:
    qualname: str
    line: int
    params: tuple[str, ...]
    decorators: tuple[str, ...]
    is_generator: bool
    owner_class: str | None
    returns: tuple[str, ...] = ()  # dotted names in the return annotation
    produces: tuple[str, ...] = ()  # names it returns or yields, `f()` for a call's result
    returned_query: ReturnedQuery | None = None
    returns_query_object: bool = False  # a return value may be an unexecuted legacy Query
    response_model: tuple[str, ...] = ()  # names in a route decorator's `response_model=`


@dataclass(frozen=True)
class RelationshipInfo:
    attr: str
    target: str | None
    uselist: bool | None
    lazy: str | None
    backref: str | None = None  # `backref="user"` / `backref=backref("user", ...)`
    backref_lazy: str | None = None
    secondary: bool = False  # many-to-many


@dataclass
class ClassInfo:
    qualname: str
    line: int
    bases: tuple[str, ...]
    keywords: dict[str, str]
    relationships: dict[str, RelationshipInfo] = field(default_factory=dict)
    abstract: bool = False
    unhashable: set[str] = field(default_factory=set)  # JSON/ARRAY/Pickle columns
    deferred: set[str] = field(default_factory=set)  # columns loaded only when read


@dataclass
class ModuleIndex:
    module: str
    path: str
    digest: str
    imports: dict[str, str] = field(default_factory=dict)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    module_names: set[str] = field(default_factory=set)
    names_read: dict[str, set[str]] = field(default_factory=dict)  # scope -> names it reads
    url_scopes: set[str] = field(default_factory=set)  # scopes holding database URL literals
    url_dialects: set[str] = field(default_factory=set)  # their dialects: "postgresql", …
    # scope -> variable -> attribute chains read on it ("customer.email", "lines.book"),
    # following `y = x.rel`, `for y in x.rel` and comprehension targets back to `x`
    attribute_reads: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # scope -> variable -> (root variable, chain) it aliases (`for line in order.lines`)
    aliases: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    # scope -> names (or `self.x`) bound from a `session.query(...)` chain, `session.get(E, pk)`
    # or a run select (objects loaded there); "return" when the function returns one directly
    loads: dict[str, set[str]] = field(default_factory=dict)
    # scope -> relationship paths its `.options(...)` calls load ("lines", "lines.book")
    loaded_paths: dict[str, set[str]] = field(default_factory=dict)
    # `self.x = ...` in methods: class qualname -> (method scope, binding of x)
    attribute_bindings: dict[str, list[tuple[str, Binding]]] = field(default_factory=dict)
    has_bulk_listeners: bool = False

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


def _produced(value: ast.expr) -> str | None:
    """What a `return`/`yield` hands out: a dotted name, or `f()` for a call's result."""
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call):
        callee = callee_name(value.func)
        return f"{callee}()" if callee else None
    return dotted_name(value)


def _runs_query(value: ast.expr) -> bool:
    """`session.query(E)...` (any chain on it), `session.get(E, pk)`, or (awaited)
    `session.scalars(select(E)...)` and the other ways to run a `select()`."""
    node = value
    while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript, ast.Await)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                (node.func.attr == "query" and node.args)
                or (node.func.attr == "get" and len(node.args) >= 2)
                or (node.func.attr in _RUNS_SELECT and node.args
                    and _is_select(node.args[0]))):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


_RUNS_SELECT = frozenset({"scalars", "execute", "exec", "scalar", "stream", "stream_scalars"})


def _is_select(node: ast.expr) -> bool:
    """A `select(...)` statement, with any chain of methods on it."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    return isinstance(node, ast.Call) and (dotted_name(node.func) or "").rpartition(".")[2] in (
        "select", "Select")


# Builtins whose result holds the objects of their first argument.
PASSING_ON = frozenset({"list", "sorted", "reversed", "tuple", "set", "frozenset", "iter", "next"})


def _holding(value: ast.expr) -> ast.expr:
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


def _without_subscripts(node: ast.expr) -> ast.expr:
    """`by_id[k].customer.email` → `by_id.customer.email`: an element's reads filed under the
    container, like a loop variable's."""
    if isinstance(node, ast.Attribute):
        inner = _without_subscripts(node.value)
        return node if inner is node.value else ast.Attribute(value=inner, attr=node.attr)
    return _without_subscripts(node.value) if isinstance(node, ast.Subscript) else node


def _run_sync_target(call: ast.Call) -> str | None:
    """What `session.run_sync(f, ...)` or `session.run_sync(lambda s: f(...))` calls."""
    handed = call.args[0] if call.args else None
    if isinstance(handed, ast.Lambda) and isinstance(handed.body, ast.Call):
        return callee_name(handed.body.func)
    return dotted_name(handed) if handed is not None else None


def _option_paths(option: ast.expr) -> list[str]:
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


def callee_name(func: ast.AST) -> str | None:
    """What a call calls: `a.b.c`, or `Cls().method` for a method of a fresh instance."""
    dotted = dotted_name(func)
    if dotted is None and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        owner = dotted_name(func.value.func)
        return f"{owner}().{func.attr}" if owner else None
    return dotted


def module_name_for(path: Path) -> str:
    """Dotted module name, found by walking up through packages (`__init__.py`)."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.append(folder.name)
        folder = folder.parent
    return ".".join(reversed(parts))


def _annotation_names(node: ast.AST | None) -> tuple[str, ...]:
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
            names.extend(_annotation_names(sub))  # Mapped["User"], Optional["Session"]
    return tuple(names)


def _keyword_text(call: ast.Call, name: str) -> str | None:
    for kw in call.keywords:
        if kw.arg == name:
            if isinstance(kw.value, ast.Constant):
                return repr(kw.value.value) if isinstance(kw.value.value, str) else str(
                    kw.value.value)
            return ast.unparse(kw.value)
    return None


class _Indexer(ast.NodeVisitor):
    def __init__(self, index: ModuleIndex) -> None:
        self.index = index
        self.scopes: list[str] = []
        self.classes: list[str] = []
        self.lambda_params: list[set[str]] = []
        self.chained_by: dict[int, ast.Call] = {}  # id(call) -> the call made on its result
        self.iterated: set[int] = set()  # ids of expressions a for loop iterates

    # -- scopes -------------------------------------------------------------------------------
    @property
    def scope(self) -> str:
        return ".".join(self.scopes)

    def _bind(self, name: str, origin: str, targets: tuple[str, ...]) -> None:
        self.index.bindings.setdefault(self.scope, []).append(Binding(name, origin, targets))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.index.imports[alias.asname] = alias.name
            else:
                head = alias.name.split(".")[0]
                self.index.imports[head] = head

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.index.module.split(".")
            if not self.index.path.endswith("__init__.py"):
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            base = ".".join([*package, base] if base else package)
        for alias in node.names:
            if alias.name != "*":
                self.index.imports[alias.asname or alias.name] = f"{base}.{alias.name}"

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if not self.scopes:
            self.index.module_names.add(node.name)
        qualname = ".".join([*self.scopes, node.name])
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        own = list(_own_nodes(node))
        is_generator = any(isinstance(sub, (ast.Yield, ast.YieldFrom)) for sub in own)
        produces = tuple(filter(None, (_produced(sub.value) for sub in own if isinstance(
            sub, (ast.Yield, ast.Return)) and sub.value is not None)))
        returns = [sub.value for sub in own if isinstance(sub, ast.Return)]
        params_set = {a.arg for a in params}
        queries = {_returned_query(value, params_set) for value in returns}
        returned_query = queries.pop() if len(queries) == 1 and returns else None
        returns_query_object = _returns_query_object(own, returns)
        self._note_usages(own)
        self.index.functions[qualname] = FunctionInfo(
            qualname=qualname,
            line=node.lineno,
            params=tuple(a.arg for a in params),
            decorators=tuple(filter(None, (dotted_name(d.func if isinstance(d, ast.Call) else d)
                                           for d in node.decorator_list))),
            is_generator=is_generator,
            owner_class=".".join(self.scopes) if self.classes and self.classes[-1] == ".".join(
                self.scopes) else None,
            returns=_annotation_names(node.returns),
            produces=produces,
            returned_query=returned_query,
            returns_query_object=returns_query_object,
            response_model=tuple(name for d in node.decorator_list if isinstance(d, ast.Call)
                                 for kw in d.keywords if kw.arg == "response_model"
                                 for name in _annotation_names(kw.value)),
        )
        for d in node.decorator_list:
            self.visit(d)
        self.scopes.append(node.name)
        for a in params:
            self._bind(a.arg, PARAM, _annotation_names(a.annotation))
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if not self.scopes:
            self.index.module_names.add(node.name)
        qualname = ".".join([*self.scopes, node.name])
        info = ClassInfo(
            qualname=qualname,
            line=node.lineno,
            bases=tuple(filter(None, map(dotted_name, node.bases))),
            keywords={kw.arg: ast.unparse(kw.value) for kw in node.keywords if kw.arg},
        )
        for stmt in node.body:
            self._class_attribute(info, stmt)
        self.index.classes[qualname] = info
        self.scopes.append(node.name)
        self.classes.append(qualname)
        for stmt in node.body:
            self.visit(stmt)
        self.classes.pop()
        self.scopes.pop()

    def _class_attribute(self, info: ClassInfo, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value, annotation = stmt.targets[0], stmt.value, None
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value, annotation = stmt.target, stmt.value, stmt.annotation
        else:
            return
        if not isinstance(target, ast.Name):
            return
        if target.id == "__abstract__" and isinstance(value, ast.Constant) and value.value:
            info.abstract = True
        if not isinstance(value, ast.Call):
            return
        func = dotted_name(value.func)
        if func is None:
            return
        if func.split(".")[-1] in {"relationship", "relation", "Relationship"}:
            info.relationships[target.id] = _relationship(target.id, value, annotation)
        else:
            if _is_unhashable_column(value, annotation):
                info.unhashable.add(target.id)
            if func.split(".")[-1] == "deferred" or _keyword_text(value, "deferred") == "True":
                info.deferred.add(target.id)

    # -- bindings and calls ---------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assign(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assign(node.target, node.value)
        if isinstance(node.target, ast.Name):
            self._bind(node.target.id, PARAM, _annotation_names(node.annotation))
        self.generic_visit(node)

    # -- attribute chains read on variables (for relationship loading) --------------------------
    def _alias_root(self, name: str) -> tuple[str, str]:
        """The variable and chain a name stands for (itself and "" if it aliases nothing)."""
        return self.index.aliases.get(self.scope, {}).get(name, (name, ""))

    def _alias(self, target: ast.expr, value: ast.expr) -> None:
        if not self.scopes or not isinstance(target, ast.Name):
            return
        aliases = self.index.aliases.setdefault(self.scope, {})
        value = _holding(value)
        if isinstance(value, ast.Call) and (name := callee_name(value.func)):
            if name.endswith(".run_sync"):  # the result of the function it runs
                name = _run_sync_target(value) or name
            aliases[target.id] = (f"{name}()", "")  # `for x in repo.orders(s)`: the result
            return
        dotted = dotted_name(value)
        if dotted is None:
            aliases.pop(target.id, None)
            return
        head, _, chain = dotted.partition(".")
        root, prefix = self._alias_root(head)
        if root != target.id:
            aliases[target.id] = (root, ".".join(filter(None, (prefix, chain))))

    def _load(self, target: ast.expr | str, value: ast.expr) -> None:
        """Note `target` as loaded from the database when `value` runs a query."""
        if self.scopes and _runs_query(_holding(value)):
            targets = target.elts if isinstance(target, ast.Tuple) else [target]  # rows
            names = {t if isinstance(t, str) else dotted_name(t) for t in targets}
            self.index.loads.setdefault(self.scope, set()).update(filter(None, names))

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self._load("return", node.value)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._alias(node.target, node.iter)
        self._load(node.target, node.iter)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._alias(node.target, node.iter)
        self._load(node.target, node.iter)
        self.generic_visit(node)

    def _note_usages(self, nodes: list[ast.AST]) -> None:
        """Which call results are chained on (`f().x()`) or iterated (`for _ in f()`)."""
        for node in nodes:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                    isinstance(node.func.value, ast.Call)):
                self.chained_by[id(node.func.value)] = node
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                self.iterated.add(id(node.iter))

    def _usage(self, call: ast.Call) -> str:
        if not self.scopes:
            return ""
        methods = []
        node = call
        while id(node) in self.chained_by:
            node = self.chained_by[id(node)]
            methods.append(node.func.attr)
        return ".".join(methods) + ("|for" if id(node) in self.iterated else "|value")

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
                       ) -> None:
        for generator in node.generators:  # targets first: `[l.x for l in y.rel]`
            self.visit(generator)
        for field_name in ("elt", "key", "value"):
            if (child := getattr(node, field_name, None)) is not None:
                self.visit(child)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def _read_chain(self, node: ast.expr, suffix: str = "") -> None:
        dotted = dotted_name(_without_subscripts(node))
        if dotted is None or not self.scopes:
            return
        head, _, chain = f"{dotted}.{suffix}".rstrip(".").partition(".")
        root, prefix = self._alias_root(head)
        self.index.attribute_reads.setdefault(self.scope, {}).setdefault(root, set()).add(
            ".".join(filter(None, (prefix, chain))))

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(value, ast.Await):  # already-async code: `x = await f()` holds f's result
            value = value.value
        self._alias(target, value)
        self._load(target, value)
        call_args: tuple[str | None, ...] = ()
        if isinstance(value, ast.Call) and (callee := callee_name(value.func)):
            origin, targets = CALL, (callee,)
            call_args = tuple(dotted_name(a) for a in [*value.args,
                                                       *(k.value for k in value.keywords)])
        elif (dotted := dotted_name(value)) is not None:
            origin, targets = ALIAS, (dotted,)
        else:
            origin, targets = VALUE, ()
        if isinstance(target, ast.Name):
            if not self.scopes:
                self.index.module_names.add(target.id)
            self.index.bindings.setdefault(self.scope, []).append(
                Binding(target.id, origin, targets, call_args))
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
              and target.value.id == "self" and self.classes):
            self.index.attribute_bindings.setdefault(self.classes[-1], []).append(
                (self.scope, Binding(target.attr, origin, targets, call_args)))

    def _with(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            expr = item.context_expr
            if isinstance(item.optional_vars, ast.Name) and isinstance(expr, ast.Call):
                callee = dotted_name(expr.func)
                if callee:
                    self._bind(item.optional_vars.id, ENTER, (callee,))
        self.generic_visit(node)

    visit_With = _with
    visit_AsyncWith = _with

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
            name = node.args[1]  # a computed name reads anything: "*"
            self._read_chain(node.args[0], name.value if isinstance(name, ast.Constant) and (
                isinstance(name.value, str)) else "*")
        if isinstance(node.func, ast.Attribute) and node.func.attr == "options" and self.scopes:
            self.index.loaded_paths.setdefault(self.scope, set()).update(
                path for arg in node.args for path in _option_paths(arg))
        callee = callee_name(node.func)
        for arg in node.args if callee else ():  # `render(session.get(Order, 1))`
            if (passed := _produced(arg)) and passed.endswith("()"):
                self._load(passed, arg)
        if callee:
            receiver, _, method = callee.rpartition(".")
            in_lambda = any(receiver in params for params in self.lambda_params)
            if method == "query" and receiver and "." not in receiver and node.args and (
                    not in_lambda):
                first = dotted_name(node.args[0])
                if first:
                    self._bind(receiver, QUERY, (first.split(".")[0],))
            if method in {"listen", "listens_for"} and any(
                isinstance(a, ast.Constant) and a.value in {"after_bulk_update",
                                                             "after_bulk_delete"}
                for a in node.args
            ):
                self.index.has_bulk_listeners = True
            self.index.calls.append(CallSite(
                scope=self.scope,
                callee=callee,
                args=tuple(_produced(a) for a in node.args),
                kwargs=tuple((kw.arg, dotted_name(kw.value)) for kw in node.keywords if kw.arg),
                line=node.lineno,
                usage=self._usage(node),
            ))
        self.generic_visit(node)


    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "://" in node.value and looks_like_url(node.value):
            self.index.url_scopes.add(self.scope)
            self.index.url_dialects.add(node.value.partition("://")[0].partition("+")[0])

    def visit_Name(self, node: ast.Name) -> None:
        self.index.names_read.setdefault(self.scope, set()).add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            self.index.names_read.setdefault(self.scope, set()).add(f"self.{node.attr}")
        self._read_chain(node)
        self.generic_visit(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        """`f"{order}"` converts the object to a string: its `__str__`/`__repr__` runs."""
        self._read_chain(node.value, "__repr__" if node.conversion in (ord("r"), ord("a"))
                         else "__str__")
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        args = node.args
        self.lambda_params.append({a.arg for a in [*args.posonlyargs, *args.args,
                                                   *args.kwonlyargs]})
        self.generic_visit(node)
        self.lambda_params.pop()


_RUN = frozenset({"all", "first", "one", "one_or_none", "scalar", "count", "get", "value",
                  "delete", "update"})


def _builds_query(node: ast.AST, query_names: set[str]) -> bool:
    return any((isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                and sub.func.attr == "query") or (isinstance(sub, ast.Name)
                                                  and sub.id in query_names)
               for sub in ast.walk(node))


def _returns_query_object(own: list[ast.AST], returns: list[ast.expr | None]) -> bool:
    """Whether a return value may be a legacy Query not run yet (`return q`, `return s.query(X)`)
    rather than rows (`return q.all()`)."""
    query_names = {t.id for node in own if isinstance(node, ast.Assign) and _builds_query(
        node.value, set()) for t in node.targets if isinstance(t, ast.Name)}
    for value in returns:
        if value is None:
            continue
        run = isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and (
            value.func.attr in _RUN)
        if not run and _builds_query(value, query_names):
            return True
    return False


def _returned_query(value: ast.expr | None, params: set[str]) -> ReturnedQuery | None:
    """`session.query(X).filter(...)` on a parameter, with no terminal."""
    steps: list[str] = []
    node = value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "query" and isinstance(node.func.value, ast.Name) and (
                node.func.value.id in params):
            return ReturnedQuery(node.func.value.id, tuple(dotted_name(a) for a in node.args),
                                 tuple(reversed(steps)))
        steps.append(node.func.attr)
        node = node.func.value
    return None


def _own_nodes(func: ast.AST):
    """Nodes of a function body, not descending into nested functions, classes or lambdas."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


_UNHASHABLE_TYPES = frozenset({"JSON", "JSONB", "ARRAY", "PickleType", "HSTORE", "dict", "list"})


def _is_unhashable_column(call: ast.Call, annotation: ast.expr | None) -> bool:
    """A column whose Python values (dict, list) cannot be put in a set (reference §2 row 16)."""
    names = [n.rpartition(".")[2] for a in call.args for n in _annotation_names(a)]
    if annotation is not None:
        inner = annotation.slice if isinstance(annotation, ast.Subscript) else None
        names += [n.rpartition(".")[2] for n in _annotation_names(inner)][:1]
    return any(n in _UNHASHABLE_TYPES for n in names)


def _relationship(attr: str, call: ast.Call, annotation: ast.expr | None) -> RelationshipInfo:
    target = None
    if call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            target = first.value
        else:
            target = dotted_name(first)
    uselist: bool | None = None
    if annotation is not None:
        text = ast.unparse(annotation)
        inner = text.replace("Mapped[", "").replace("DynamicMapped[", "")
        if any(inner.lstrip("\"'").startswith(p) for p in ("list[", "List[", "set[", "Set[")):
            uselist = True
        elif text.startswith(("Mapped[", "\"Mapped[")):
            uselist = False
        if target is None:
            names = [n for n in _annotation_names(annotation)
                     if n not in {"Mapped", "list", "List", "Optional", "set", "Set",
                                  "DynamicMapped", "WriteOnlyMapped"}]
            target = names[-1] if names else None
    uselist_kw = _keyword_text(call, "uselist")
    if uselist_kw in {"True", "False"}:
        uselist = uselist_kw == "True"
    lazy = _keyword_text(call, "lazy")
    kwargs = next((kw.value for kw in call.keywords if kw.arg == "sa_relationship_kwargs"), None)
    if lazy is None and isinstance(kwargs, ast.Dict):
        for key, value in zip(kwargs.keys, kwargs.values, strict=False):
            if isinstance(key, ast.Constant) and key.value == "lazy" and isinstance(
                    value, ast.Constant):
                lazy = repr(value.value)
    backref = next((kw.value for kw in call.keywords if kw.arg == "backref"), None)
    backref_name = backref_lazy = None
    if isinstance(backref, ast.Call) and backref.args:  # backref("user", lazy="joined")
        backref_lazy = _keyword_text(backref, "lazy")
        backref = backref.args[0]
    if isinstance(backref, ast.Constant) and isinstance(backref.value, str):
        backref_name = backref.value
    return RelationshipInfo(attr=attr, target=target, uselist=uselist,
                            lazy=lazy.strip("'\"") if lazy else None, backref=backref_name,
                            backref_lazy=backref_lazy.strip("'\"") if backref_lazy else None,
                            secondary=any(kw.arg == "secondary" for kw in call.keywords))


def index_source(source: str, path: str, module: str | None = None) -> ModuleIndex:
    """Index one module's text. Raises SyntaxError for text that does not parse."""
    tree = ast.parse(source, filename=path)
    digest = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    if module is None:
        module = module_name_for(Path(path)) if path and not path.startswith("<") else ""
    index = ModuleIndex(module=module, path=path, digest=digest)
    _Indexer(index).visit(tree)
    return index
