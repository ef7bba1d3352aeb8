"""The project index: one fast read of a module's text with the stdlib `ast` parser.

It records raw facts only — imports, classes (for mapped classes and their relationships),
functions, where names get their values, and calls between functions. Decisions over these facts
live in `analysis/`; nothing here knows which rule will use them. It reads no file system: the
caller (`cache.py`) says which module the text is.
"""

from __future__ import annotations

import ast

from ..todo import suppressed_codes
from ..urls import looks_like_url
from .mapping import foreign_key_targets, is_unhashable_column, relationship_info
from .model import (
    ALIAS,
    CALL,
    ELEMENT,
    ENTER,
    PARAM,
    QUERY,
    TYPE,
    VALUE,
    Binding,
    CallSite,
    ClassInfo,
    FunctionInfo,
    ModuleIndex,
    ReturnedQuery,
    TopLevelCall,
)
from .redefinitions import split_keys
from .shapes import (
    ONE_OBJECT_TERMINALS,
    Held,
    annotation_names,
    callee_name,
    chained_callee,
    default_name,
    dotted_name,
    first_item_of,
    handed_out_patches,
    handed_queries,
    holding,
    keyword_text,
    note_held,
    one_loaded_root,
    option_paths,
    own_nodes,
    produced,
    query_arguments,
    query_params,
    reads_by_name,
    returned_calls,
    returned_query,
    returns_query_object,
    run_sync_target,
    runs_a_statement,
    runs_query,
    takes_coroutines,
    url_drivername,
    url_source,
    without_subscripts,
)


def _result_callee(func: ast.expr) -> str | None:
    """`callee_name`, also for a method of an awaited call's result: `(await s.scalars(q))
    .first` is `s.scalars().first` as `s.query(E).first` is `s.query().first`, so a variable
    bound to it aliases the same in a re-run."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Await) and isinstance(
            func.value.value, ast.Call):
        owner = dotted_name(func.value.value.func)
        return f"{owner}().{func.attr}" if owner else None
    return callee_name(func)


def _one_loaded(value: ast.Call) -> bool:
    """`s.query(E).first()`, `(await s.scalars(stmt)).first()`: one object of what a call
    made (see `one_loaded_root`)."""
    func = value.func
    inner = func.value.value if isinstance(func, ast.Attribute) and isinstance(
        func.value, ast.Await) else getattr(func, "value", None)
    return isinstance(func, ast.Attribute) and func.attr in ONE_OBJECT_TERMINALS and (
        isinstance(inner, ast.Call))


class _Indexer(ast.NodeVisitor):
    def __init__(self, index: ModuleIndex) -> None:
        self.index = index
        self.scopes: list[str] = []
        self.split: dict[int, str] = {}  # id of a def a later one rebinds -> its scope key
        self.definitions: dict[str, list[str]] = {}  # qualified name -> scope key of each def
        self.classes: list[str] = []
        self.lambda_params: list[set[str]] = []
        self.chained_by: dict[int, ast.Call] = {}  # id(call) -> the call made on its result
        self.iterated: set[int] = set()  # ids of expressions a for loop iterates
        self.scheduled: set[int] = set()  # ids of calls handed to asyncio to run (`|coroutine`)
        self.held: dict[str, Held] = {}  # scope → its statement and query/result variables
        self.globals: dict[str, set[str]] = {}  # function scope → names it declares `global`
        # function scope → its query variables read only as call arguments
        self.handed: dict[str, dict[str, ReturnedQuery]] = {}
        self.not_values: set[int] = set()  # ids of called expressions and attribute bases

    # -- scopes -------------------------------------------------------------------------------
    @property
    def scope(self) -> str:
        return ".".join(self.scopes)

    def _bind(self, name: str, origin: str, targets: tuple[str, ...],
              call_args: tuple[str | None, ...] = (), element: int = 0) -> None:
        # `global session` then `session = Session()` / `with Session() as session`: the
        # module's name
        scope = "" if name in self.globals.get(self.scope, ()) else self.scope
        self.index.bindings.setdefault(scope, []).append(Binding(name, origin, targets,
                                                                 call_args, element=element))

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
            if alias.name == "*":
                self.index.star_imports.append(base)
            else:
                self.index.imports[alias.asname or alias.name] = f"{base}.{alias.name}"

    def generic_visit(self, node: ast.AST) -> None:
        """ast's, noting the functions each statement list defines again first."""
        for _, value in ast.iter_fields(node):
            if isinstance(value, list):
                if len(value) > 1 and isinstance(value[0], ast.stmt):
                    self._note_redefinitions(value)
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def _note_redefinitions(self, body: list[ast.stmt]) -> None:
        defs = [s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if len(defs) < 2:
            return
        keys = split_keys([(d.name, [n for n in map(dotted_name, (
            x.func if isinstance(x, ast.Call) else x for x in d.decorator_list)) if n])
            for d in defs])
        self.split.update((id(defs[i]), key) for i, key in keys.items())

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if not self.scopes:
            self.index.module_names.add(node.name)
        key = self.split.get(id(node), node.name)
        qualname = ".".join([*self.scopes, key])
        self.definitions.setdefault(".".join([*self.scopes, node.name]), []).append(qualname)
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        own = list(own_nodes(node))
        is_generator = any(isinstance(sub, (ast.Yield, ast.YieldFrom)) for sub in own)
        produces = tuple(filter(None, (produced(sub.value) for sub in own if isinstance(
            sub, (ast.Yield, ast.Return)) and sub.value is not None)))
        returns = [sub.value for sub in own if isinstance(sub, ast.Return)]
        params_set = {a.arg for a in params}
        queries = {returned_query(value, params_set, own, node) for value in returns}
        self._note_usages(own)
        self.index.functions[qualname] = FunctionInfo(
            qualname=qualname,
            params=tuple(a.arg for a in params),
            decorators=tuple(filter(None, (dotted_name(d.func if isinstance(d, ast.Call) else d)
                                           for d in node.decorator_list))),
            is_generator=is_generator,
            hands_back_value=any(value is not None for value in returns) or bool(
                {id(sub) for sub in own if isinstance(sub, ast.YieldFrom)} - {
                    id(sub.value) for sub in own if isinstance(sub, ast.Expr)}),
            owner_class=".".join(self.scopes) if self.classes and self.classes[-1] == ".".join(
                self.scopes) else None,
            returns=annotation_names(node.returns),
            produces=produces,
            returns_tuples=tuple(tuple(produced(e) for e in value.elts) for value in returns
                                 if isinstance(value, ast.Tuple)),
            returned_query=queries.pop() if len(queries) == 1 and returns else None,
            returns_query_object=returns_query_object(own, returns),
            returned_calls=returned_calls(own, returns),
            query_params=query_params(node, own, [a.arg for a in params]),
            response_model=tuple(name for d in node.decorator_list if isinstance(d, ast.Call)
                                 for kw in d.keywords if kw.arg == "response_model"
                                 for name in annotation_names(kw.value)),
            is_async=isinstance(node, ast.AsyncFunctionDef),
            reads_by_name=bool(params) and reads_by_name(own, params[0].arg),
            hands_out_patches=handed_out_patches(own),
        )
        for d in node.decorator_list:
            self.visit(d)
        self.scopes.append(key)
        handed = handed_queries(node, own)
        if handed:
            self.handed[self.scope] = handed
        declared = {name for sub in own if isinstance(sub, ast.Global) for name in sub.names}
        if declared:
            self.globals[self.scope] = declared
        for default in [*args.defaults, *filter(None, args.kw_defaults)]:
            for sub in ast.walk(default):  # `def connect(url="sqlite://")`: a URL in this scope
                if isinstance(sub, ast.Constant):
                    self.visit_Constant(sub)
        positional = [*args.posonlyargs, *args.args]
        defaults = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]],
                            args.defaults, strict=True))
        defaults |= {a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d}
        for a in params:
            default = defaults.get(a.arg)
            annotation = annotation_names(a.annotation)
            self.index.bindings.setdefault(self.scope, []).append(Binding(
                a.arg, PARAM, annotation,
                default=default_name(default) if default is not None else None))
            # the signature is rewritten with the function (`factory: sessionmaker`)
            self.index.names_read.setdefault(self.scope, set()).update(annotation)
        for packed in (args.vararg, args.kwarg):  # `*args` is a tuple, `**kwargs` a dict
            if packed is not None:
                self.index.bindings.setdefault(self.scope, []).append(
                    Binding(packed.arg, VALUE, ()))
        self._note_redefinitions(node.body)
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
            bases=tuple(filter(None, (dotted_name(b.value if isinstance(b, ast.Subscript) else b)
                                      for b in node.bases))),  # `CRUDBase[User]`
            keywords={kw.arg: ast.unparse(kw.value) for kw in node.keywords if kw.arg},
            decorators=tuple(filter(None, (dotted_name(d.func if isinstance(d, ast.Call) else d)
                                           for d in node.decorator_list))),
        )
        for stmt in node.body:
            self._class_attribute(info, stmt)
        self.index.classes[qualname] = info
        self.scopes.append(node.name)
        self.classes.append(qualname)
        self._note_redefinitions(node.body)
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
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and (
                    ast.unparse(stmt.annotation).startswith("Mapped[")):
                info.columns.add(stmt.target.id)  # `language: Mapped[str]`
            return
        if not isinstance(target, ast.Name):
            return
        if target.id == "__abstract__" and isinstance(value, ast.Constant) and value.value:
            info.abstract = True
        if target.id == "query_class":
            info.query_class = dotted_name(value)
        if target.id == "__tablename__" and isinstance(value, ast.Constant) and isinstance(
                value.value, str):
            info.table = value.value
        if not isinstance(value, ast.Call):
            return
        func = dotted_name(value.func)
        if func is None:
            return
        if func.split(".")[-1] in {"relationship", "relation", "Relationship"}:
            info.relationships[target.id] = relationship_info(target.id, value, annotation)
        else:
            info.foreign_keys |= foreign_key_targets(value)
            info.columns.add(target.id)
            if is_unhashable_column(value, annotation):
                info.unhashable.add(target.id)
            if func.split(".")[-1] == "deferred" or keyword_text(value, "deferred") == "True":
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
            self._bind(node.target.id, PARAM, annotation_names(node.annotation))
        elif isinstance(node.target, ast.Attribute) and isinstance(node.target.value, ast.Name) \
                and node.target.value.id in ("self", "cls") and self.classes:
            # `self.session: Session = factory()`: the annotation says what it holds
            self.index.attribute_bindings.setdefault(self.classes[-1], []).append(
                (self.scope, Binding(node.target.attr, PARAM,
                                     annotation_names(node.annotation))))
        self.generic_visit(node)

    # -- attribute chains read on variables (for relationship loading) --------------------------
    def _alias_root(self, name: str) -> tuple[str, str]:
        """The variable and chain a name stands for (itself and "" if it aliases nothing)."""
        return self.index.aliases.get(self.scope, {}).get(name, (name, ""))

    def _alias(self, target: ast.expr, value: ast.expr) -> None:
        if not isinstance(target, ast.Name):
            return
        aliases = self.index.aliases.setdefault(self.scope, {})
        value = holding(value)
        if isinstance(value, ast.Call) and (name := _result_callee(value.func)):
            if name.endswith(".run_sync"):  # the result of the function it runs
                name = run_sync_target(value) or name
            # `for x in repo.orders(s)`: the result; `x = s.query(E).first()`: that one object
            aliases[target.id] = (one_loaded_root(target.id, name) if _one_loaded(value) or (
                runs_a_statement(name)) else f"{name}()", "")
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
        if self.scopes and runs_query(holding(value), self.held.get(self.scope)):
            targets = target.elts if isinstance(target, ast.Tuple) else [target]  # rows
            names = {t if isinstance(t, str) else dotted_name(t) for t in targets}
            self.index.loads.setdefault(self.scope, set()).update(filter(None, names))

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self._load("return", node.value)
        self.generic_visit(node)

    def _loop_source(self, target: ast.expr, iterated: ast.expr) -> None:
        """The container whose values a loop variable takes: `for row in results`, `for fn in
        self.handlers.values()`, `for name, fn in handlers.items()`."""
        container = dotted_name(iterated)
        if isinstance(iterated, ast.Call) and isinstance(iterated.func, ast.Attribute) and (
                iterated.func.attr in ("items", "values") and not iterated.args):
            container = dotted_name(iterated.func.value)
            if iterated.func.attr == "items" and isinstance(target, ast.Tuple) and len(
                    target.elts) == 2:
                target = target.elts[1]
        if isinstance(target, ast.Name) and container is not None:
            sources = self.index.loop_sources.setdefault(self.scope, {})
            if container not in sources.get(target.id, ()):
                sources[target.id] = (*sources.get(target.id, ()), container)

    def visit_For(self, node: ast.For) -> None:
        self._loop_source(node.target, node.iter)
        self._alias(node.target, node.iter)
        self._load(node.target, node.iter)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._loop_source(node.target, node.iter)
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
            if isinstance(node, ast.Call) and takes_coroutines(
                    self.index.qualify(dotted_name(node.func) or ""),
                    getattr(node.func, "attr", None)):
                self.scheduled.update(id(arg) for arg in node.args if isinstance(arg, ast.Call))

    def _usage(self, call: ast.Call) -> str:
        if not self.scopes:
            return ""
        if id(call) in self.scheduled:
            return "|coroutine"
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
        dotted = dotted_name(without_subscripts(node))
        if dotted is None:
            self._read_on_result(node, suffix)
            return
        head, _, chain = f"{dotted}.{suffix}".rstrip(".").partition(".")
        root, prefix = self._alias_root(head)
        self.index.attribute_reads.setdefault(self.scope, {}).setdefault(root, set()).add(
            ".".join(filter(None, (prefix, chain))))

    def _read_on_result(self, node: ast.expr, suffix: str) -> None:
        """`session.get(Order, 1).customer.name`: read on what a call returns, filed under
        the call (`session.get()`) as reads on a variable bound to it are."""
        attrs = [suffix] if suffix else []
        node = without_subscripts(node)
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = without_subscripts(node.value)
        if isinstance(node, ast.Await):
            node = node.value
        name = (_result_callee(node.func) or chained_callee(node.func)) if isinstance(
            node, ast.Call) and attrs else None
        if name is not None:
            self.index.attribute_reads.setdefault(self.scope, {}).setdefault(
                f"{name}()", set()).add(".".join(reversed(attrs)))

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(value, ast.Await):  # already-async code: `x = await f()` holds f's result
            value = value.value
        self._alias(target, value)
        self._load(target, value)
        if isinstance(target, ast.Name) and (source := url_source(value)):
            self.index.url_names.setdefault(self.scope, {})[target.id] = source
        if isinstance(target, ast.Name) and self.scopes:
            note_held(self.held.setdefault(self.scope, (set(), set())), target.id, value)
        if isinstance(value, ast.Dict | ast.List | ast.Tuple | ast.Set) and (
                name := dotted_name(target)):
            elements = value.values if isinstance(value, ast.Dict) else value.elts
            if named := tuple(d for e in elements if e is not None and (d := dotted_name(e))):
                self.index.displays.setdefault(self.scope, {})[name] = named
        call_args: tuple[str | None, ...] = ()
        if (first := first_item_of(value)) is not None:  # `x = next(gen())`: what gen yields
            origin, targets = ENTER, (first,)
        elif isinstance(value, ast.Call) and (callee := callee_name(value.func) or (
                isinstance(value.func, ast.Call) and (inner := callee_name(value.func.func))
                and f"{inner}()")):  # `sessionmaker(bind=engine)()`: what the result makes
            origin, targets = CALL, (callee,)
            call_args = tuple(dotted_name(a) for a in [*value.args,
                                                       *(k.value for k in value.keywords)])
        elif (dotted := dotted_name(value)) is not None:
            origin, targets = ALIAS, (dotted,)
        elif isinstance(value, ast.Subscript) and dotted_name(value.value) is not None:
            origin, targets = TYPE, annotation_names(value)  # `Annotated[Session, ...]`
        else:
            origin, targets = VALUE, ()
        if isinstance(target, ast.Tuple | ast.List) and origin == CALL and all(
                isinstance(e, ast.Name) for e in target.elts):  # `person, created = f(...)`
            for position, element in enumerate(target.elts):
                self._bind(element.id, ELEMENT, targets, call_args, position)
        if isinstance(target, ast.Name):
            if not self.scopes:
                self.index.module_names.add(target.id)
                query_class = isinstance(value, ast.Call) and next(
                    (dotted_name(k.value) for k in value.keywords if k.arg == "query_class"), None)
                if query_class:
                    self.index.query_classes[target.id] = query_class
            self._bind(target.id, origin, targets, call_args)
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
              and target.value.id in ("self", "cls") and self.classes):
            # (`cls.engine = ...` in a classmethod such as setUpClass: `self.engine` later)
            self.index.attribute_bindings.setdefault(self.classes[-1], []).append(
                (self.scope, Binding(target.attr, origin, targets, call_args)))
        elif isinstance(target, ast.Attribute) and (dotted := dotted_name(target)) and (
                origin in (CALL, ALIAS)):  # `request.state.db = SessionLocal()`
            self.index.attribute_stores.append((self.scope, Binding(dotted, origin, targets,
                                                                    call_args)))

    def _with(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            expr = item.context_expr
            entered = dotted_name(expr) or (f"{callee_name(expr.func)}()" if isinstance(
                expr, ast.Call) and callee_name(expr.func) else None)
            if entered and self.scopes:  # `with uow:` calls its class's __enter__/__exit__
                for method in ("__enter__", "__exit__"):
                    self.index.calls.append(CallSite(self.scope, f"{entered}.{method}", (), (),
                                                     node.lineno, "with"))
            if isinstance(item.optional_vars, ast.Name) and isinstance(expr, ast.Call):
                callee = dotted_name(expr.func)
                if callee:
                    self._bind(item.optional_vars.id, ENTER, (callee,))
        self.generic_visit(node)

    visit_With = _with
    visit_AsyncWith = _with

    def visit_Call(self, node: ast.Call) -> None:
        self.not_values.add(id(node.func))
        if url_drivername(node) is not None:  # `URL.create("postgresql", ...)`: SQA001 looks
            self.index.url_scopes.add(self.scope)
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
            name = node.args[1]  # a computed name reads anything: "*"
            self._read_chain(node.args[0], name.value if isinstance(name, ast.Constant) and (
                isinstance(name.value, str)) else "*")
        if isinstance(node.func, ast.Attribute) and node.func.attr == "options" and self.scopes:
            self.index.loaded_paths.setdefault(self.scope, set()).update(
                path for arg in node.args for path in option_paths(arg))
        properties = next((k.value for k in node.keywords if k.arg == "properties"), None)
        if isinstance(properties, ast.Dict):  # `map_imperatively(Cls, table, properties=...)`
            declared = tuple(relationship_info(key.value, value, None) for key, value in zip(
                properties.keys, properties.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
                and isinstance(value, ast.Call)
                and (callee_name(value.func) or "").rpartition(".")[2] == "relationship")
            if declared:
                self.index.mapping_properties[node.lineno] = declared
        callee = callee_name(node.func)
        for arg in node.args if callee else ():  # `render(session.get(Order, 1))`
            if (passed := produced(arg)) and passed.endswith("()"):
                self._load(passed, arg)
        if callee:
            receiver, _, method = callee.rpartition(".")
            handed = node.args[0] if method == "run_sync" and node.args else None
            if isinstance(handed, ast.Lambda) and (sync_params := [
                    *handed.args.posonlyargs, *handed.args.args]):
                self.index.sync_sessions.setdefault(self.scope, set()).add(sync_params[0].arg)
            in_lambda = any(receiver in params for params in self.lambda_params)
            if method == "query" and receiver and "." not in receiver and node.args and (
                    not in_lambda):
                first = dotted_name(node.args[0])
                if first:
                    self._bind(receiver, QUERY, (first,))
            if method == "add_request_method" and node.args:  # Pyramid: `request.<name>`
                function = dotted_name(node.args[0])
                name = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "name"), None)
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    self.index.request_attributes.add(name.value)
                elif name is None and function:  # named after the function
                    self.index.request_attributes.add(function.rpartition(".")[2])
            if method in {"listen", "listens_for"} and any(
                isinstance(a, ast.Constant) and a.value in {"after_bulk_update",
                                                             "after_bulk_delete"}
                for a in node.args
            ):
                self.index.has_bulk_listeners = True
            self.index.calls.append(CallSite(
                scope=self.scope,
                callee=callee,
                args=tuple(produced(a) for a in node.args),
                kwargs=tuple((kw.arg, dotted_name(kw.value)) for kw in node.keywords if kw.arg),
                line=node.lineno,
                usage=self._usage(node),
                queries=query_arguments(node, self.handed.get(self.scope, {})),
            ))
        elif chained := chained_callee(node.func):
            self.index.chained_calls.append((self.scope, chained))
        self.generic_visit(node)


    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "://" in node.value and looks_like_url(node.value):
            self.index.url_scopes.add(self.scope)
            self.index.url_dialects.add(node.value.partition("://")[0].partition("+")[0])

    def visit_Name(self, node: ast.Name) -> None:
        self.index.names_read.setdefault(self.scope, set()).add(node.id)
        if id(node) not in self.not_values and isinstance(node.ctx, ast.Load):
            self.index.value_names.setdefault(self.scope, set()).add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if id(node) not in self.not_values and isinstance(node.ctx, ast.Load):
            self.index.value_names.setdefault(self.scope, set()).add(node.attr)
        self.not_values.add(id(node.value))
        if isinstance(node.value, ast.Name) and (node.value.id in ("self", "cls") or (
                node.value.id in self.index.imports) or node.attr == "query"):
            # `self.session`, `cls._session`, `meta.Session`, `Recipe.query`
            self.index.names_read.setdefault(self.scope, set()).add(
                f"{node.value.id}.{node.attr}")
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


def _top_level_calls(tree: ast.Module, source: str) -> list[TopLevelCall]:
    """The module-level statements that are one call or assign one to a name, placed as
    libcst places them (statements joined by `;` are one), with the codes their suppression
    comments name (the comment lines since the statement before, and the line's own)."""
    lines = source.splitlines()
    groups: list[list[ast.stmt]] = []
    for stmt in tree.body:
        if groups and groups[-1][-1].end_lineno == stmt.lineno:
            groups[-1].append(stmt)  # `a; b`
        else:
            groups.append([stmt])
    found = []
    previous_end = 0
    for at, group in enumerate(groups):
        first, last = group[0], group[-1]
        start, previous_end = previous_end, last.end_lineno or last.lineno
        if len(group) != 1:
            continue
        target = None
        if isinstance(first, ast.Expr):
            call = first.value
        elif isinstance(first, (ast.Assign, ast.AnnAssign)):
            targets = first.targets if isinstance(first, ast.Assign) else [first.target]
            call = first.value
            if len(targets) != 1 or not isinstance(targets[0], ast.Name):
                continue
            target = targets[0].id
        else:
            continue
        callee = callee_name(call.func) if isinstance(call, ast.Call) else None
        if callee is None:
            continue
        comments = [line for line in lines[start:first.lineno - 1] if line.lstrip()[:1] == "#"]
        own = lines[previous_end - 1].encode()[last.end_col_offset or 0:].decode(
            errors="replace") if previous_end <= len(lines) else ""
        found.append(TopLevelCall(
            at, first.lineno, callee, tuple(dotted_name(a) for a in call.args),
            tuple((k.arg, dotted_name(k.value)) for k in call.keywords if k.arg), target,
            frozenset(suppressed_codes([*comments, own]) if at else suppressed_codes([own]))))
    return found


def index_source(source: str, path: str, module: str) -> ModuleIndex:
    """Index one module's text (`module`: its dotted name, "" when unknown). Raises
    SyntaxError for text that does not parse."""
    return index_tree(source, path, module)[0]


def index_tree(source: str, path: str, module: str) -> tuple[ModuleIndex, ast.Module]:
    """`index_source`, and the `ast` of `source` (which indexing leaves as it was parsed)."""
    index = ModuleIndex(module=module, path=path)
    tree = ast.parse(source, filename=path)
    indexer = _Indexer(index)
    indexer.visit(tree)
    index.redefined = {plain: tuple(keys) for plain, keys in indexer.definitions.items()
                       if any(key != plain for key in keys)}
    index.top_level_calls = _top_level_calls(tree, source)
    index.exports = _exports(tree)
    return index, tree


def _exports(tree: ast.Module) -> tuple[str, ...] | None:
    """The names of a literal `__all__ = [...]` (or a tuple) at module level, the last one."""
    found = None
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets):
            value = stmt.value
            found = tuple(e.value for e in value.elts) if isinstance(
                value, (ast.List, ast.Tuple)) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str)
                for e in value.elts) else None
    return found
