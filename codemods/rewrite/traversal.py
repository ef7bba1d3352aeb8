"""Traversals that touch only what changes.

libcst's `node.visit(...)` rebuilds (and re-validates) every node it passes through, even for
a read-only visitor and even where nothing changed, and calls `on_visit_attribute` /
`on_leave_attribute` for every field of every node; that was most of a large file's run time.
`Visitor.walk` and `Transformer.transform` visit the same nodes in the same order (libcst's,
read off its own `_visit_and_replace_children` once per node type) with the same hooks, but a
walk builds nothing and a transform rebuilds only the nodes on the way to a change (an
unchanged subtree comes back as the very same object).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import libcst as cst

# Whitespace and punctuation: over half of all nodes, with only more of them below. No rule
# and no bookkeeping looks at them: a traversal does not even call itself for them (`skipped`).
TRIVIA = frozenset({
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.Newline,
    cst.EmptyLine, cst.Comment, cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.ImportStar, cst.Ellipsis,
    cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power,
    cst.MatrixMultiply, cst.LeftShift, cst.RightShift, cst.BitAnd, cst.BitOr, cst.BitXor,
    cst.Equal, cst.NotEqual, cst.LessThan, cst.LessThanEqual, cst.GreaterThan,
    cst.GreaterThanEqual, cst.In, cst.NotIn, cst.Is, cst.IsNot, cst.And, cst.Or, cst.Not,
    cst.Minus, cst.Plus, cst.BitInvert, cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign,
    cst.DivideAssign, cst.ModuloAssign, cst.BitOrAssign, cst.BitAndAssign,
})

# node type → its child fields, in the order libcst visits them
_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}


class _FieldOrder(cst.CSTVisitor):
    """Records the fields libcst visits, without going below the node's children."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.fields.append(attribute)


# Node types whose visited fields depend on the node (an f-string expression's `format_spec`
# is visited only when present): their order is recorded for each node, never cached.
_VALUE_DEPENDENT = frozenset({"FormattedStringExpression", "TemplatedStringExpression"})


def child_fields(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields of `node` that hold child nodes, in libcst's visiting order."""
    kind = type(node)
    found = _FIELDS.get(kind)
    if found is None:
        recorder = _FieldOrder()
        node._visit_and_replace_children(recorder)  # the order, once per type
        found = tuple(dict.fromkeys(recorder.fields))
        if kind.__name__ not in _VALUE_DEPENDENT:
            _FIELDS[kind] = found
    return found


class _NoFieldHooks:
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


def _skippable(cls: type, base: type) -> frozenset[type[cst.CSTNode]]:
    """The trivia a traversal class may skip: all of them when it neither overrides
    `on_visit` / `on_leave` nor has a `visit_<Node>` / `leave_<Node>` of its own for them
    (libcst's stubs do nothing), else none (it says itself, with `skipped`)."""
    if cls.on_visit not in (base.on_visit, _visit_hook) or cls.on_leave not in (
            base.on_leave, _leave_hook):  # (a Visitor's dispatch is the base's, see there)
        return frozenset()
    hooks = [f"{prefix}{kind.__name__}" for kind in TRIVIA for prefix in ("visit_", "leave_")]
    if any(getattr(cls, hook, None) is not getattr(base, hook, None) for hook in hooks):
        return frozenset()
    return TRIVIA


def _hooks_of(visitor: Visitor, kind: type[cst.CSTNode]
              ) -> tuple[Callable | None, Callable | None]:
    cls, name = type(visitor), kind.__name__
    found = cls._hooks[kind] = tuple(  # type: ignore[assignment]
        None if hook is getattr(cst.CSTVisitor, attr, None) else hook
        for attr in (f"visit_{name}", f"leave_{name}") for hook in [getattr(cls, attr, None)])
    return found


def _visit_hook(self: Visitor, node: cst.CSTNode) -> bool:
    """libcst's `on_visit`: `visit_<Node>`, whose False skips the children."""
    visit = (self._hooks.get(type(node)) or _hooks_of(self, type(node)))[0]
    return visit is None or visit(self, node) is not False


def _leave_hook(self: Visitor, original_node: cst.CSTNode) -> None:
    """libcst's `on_leave`: `leave_<Node>`."""
    leave = (self._hooks.get(type(original_node)) or _hooks_of(self, type(original_node)))[1]
    if leave is not None:
        leave(self, original_node)


class Visitor(_NoFieldHooks, cst.CSTVisitor):
    """A read-only visitor dispatching `visit_<Node>` / `leave_<Node>` only; `walk` runs it.

    Nodes of the `skipped` types are neither visited nor left nor entered (see
    `_skippable`)."""

    skipped: frozenset[type[cst.CSTNode]] = frozenset()
    # node type → this class's (visit_<Node>, leave_<Node>), None for libcst's stubs (which do
    # nothing): libcst's own `on_visit` / `on_leave` look each up by name at every node
    _hooks: dict[type[cst.CSTNode], tuple[Callable | None, Callable | None]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "skipped" not in cls.__dict__:
            cls.skipped = _skippable(cls, cst.CSTVisitor)
        cls._hooks = {}
        # libcst's dispatch, where no class of this one's overrides it, by the table
        if cls.on_visit is cst.CSTVisitor.on_visit:
            cls.on_visit = _visit_hook  # type: ignore[method-assign]
        if cls.on_leave is cst.CSTVisitor.on_leave:
            cls.on_leave = _leave_hook  # type: ignore[method-assign]

    def walk(self, node: cst.CSTNode) -> None:
        """Visit `node` and everything below it (as `node.visit(self)`, building nothing)."""
        if self.on_visit(node):
            skipped = self.skipped
            for name in child_fields(node):
                value = getattr(node, name)
                kind = type(value)
                if kind is tuple or kind is list:
                    for child in value:
                        if type(child) not in skipped:
                            self.walk(child)
                elif value is not None and kind is not cst.MaybeSentinel and (
                        kind not in skipped):
                    self.walk(value)
        self.on_leave(node)


class OwnScopeVisitor(Visitor):
    """A visitor of one scope's own code: nested functions, classes and lambdas are not
    entered."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class BodyScan(Visitor):
    """A walk over a function's body that knows how deep it is in nested functions and
    lambdas (`nested`) and which names are no reads of a variable (`targets`: attribute and
    keyword names, and what a subclass adds, such as assignment targets)."""

    def __init__(self) -> None:
        self.nested = 0
        self.targets: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.nested -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.nested += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.nested -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.targets.add(id(node.attr))  # `x.q` is not a read of `q`

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.targets.add(id(node.keyword))


class _Mentions(Visitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        self.found = self.found or node.value == self.name


def mentions(nodes: Iterable[cst.CSTNode], name: str) -> bool:
    """Some node reads (or binds) the name."""
    finder = _Mentions(name)
    for node in nodes:
        finder.walk(node)
    return finder.found


class Transformer(_NoFieldHooks, cst.CSTTransformer):
    """A transformer dispatching `visit_<Node>` / `leave_<Node>` only; `transform` runs it.

    Nodes of the `skipped` types are neither visited nor left nor entered: they come back as
    they are (see `_skippable`)."""

    skipped: frozenset[type[cst.CSTNode]] = frozenset()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "skipped" not in cls.__dict__:
            cls.skipped = _skippable(cls, cst.CSTTransformer)

    def transform(self, node: cst.CSTNode
                  ) -> cst.CSTNode | cst.FlattenSentinel | cst.RemovalSentinel:
        """`node.visit(self)`, rebuilding only the nodes below which something changed.

        Rules replace or flatten statements in a body but never remove a single child, so a
        sentinel anywhere else is an error (libcst raises for most of those too)."""
        updated = node
        if self.on_visit(node):
            changes: dict[str, object] = {}
            skipped = self.skipped
            for name in child_fields(node):
                value = getattr(node, name)
                kind = type(value)
                if kind is tuple or kind is list:
                    new_items = self._sequence(value) if value else None  # (most are `lpar=()`)
                    if new_items is not None:
                        changes[name] = new_items
                elif value is not None and kind is not cst.MaybeSentinel and (
                        kind not in skipped):
                    new = self.transform(value)
                    if new is not value:
                        if type(new) is cst.FlattenSentinel or type(new) is cst.RemovalSentinel:
                            raise TypeError(f"{new!r} for {type(node).__name__}.{name}")
                        changes[name] = new
            if changes:
                updated = _with_changes(node, changes)
        return self.on_leave(node, updated)

    def _sequence(self, children: Sequence[cst.CSTNode]) -> tuple[cst.CSTNode, ...] | None:
        """The children after the transform, or None when none of them changed. As libcst
        does, a removed child is dropped, a flattened one spliced in, and a statement line
        emptied by the transform (no longer anything concrete) dropped."""
        result: list[cst.CSTNode] = []
        changed = False
        skipped = self.skipped
        for child in children:
            if type(child) in skipped:
                result.append(child)
                continue
            new = self.transform(child)
            if new is child:
                result.append(child)
                continue
            changed = True
            for item in new if type(new) is cst.FlattenSentinel else (
                    () if type(new) is cst.RemovalSentinel else (new,)):
                # (only a statement line can be removable: libcst's rule for bodies)
                if child._is_removable() or not item._is_removable():
                    result.append(item)
        return tuple(result) if changed else None


# A keyword's space before what follows it: `return(x)` holds none, which a value without
# parentheses (`return await x`) needs
_WORD_GAPS: dict[type[cst.CSTNode], str] = {
    cst.Return: "whitespace_after_return", cst.Await: "whitespace_after_await",
    cst.Yield: "whitespace_after_yield", cst.Assert: "whitespace_after_assert",
    cst.Del: "whitespace_after_del", cst.If: "whitespace_before_test",
    cst.While: "whitespace_after_while", cst.Raise: "whitespace_after_raise",
}


def _with_changes(node: cst.CSTNode, changes: dict[str, object]) -> cst.CSTNode:
    """`node.with_changes(**changes)`, with a space after its keyword where the new child
    needs one (`return(refs())` → `return await refs()`)."""
    try:
        return node.with_changes(**changes)
    except cst.CSTValidationError:
        gap = _WORD_GAPS.get(type(node))
        if gap is None:
            raise
        return node.with_changes(**changes, **{gap: cst.SimpleWhitespace(" ")})


_CONDITIONAL = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.Lambda)


def always_called(expr: cst.BaseExpression) -> set[int]:
    """The calls (node ids) evaluating `expr` always makes: not in one branch of `a if c
    else b`, after the left side of `and`/`or`, in a comprehension or a lambda."""
    found: set[int] = set()
    todo: list[cst.CSTNode] = [expr]
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Call):
            found.add(id(node))
        if isinstance(node, cst.IfExp):
            todo.append(node.test)
        elif isinstance(node, cst.BooleanOperation):
            todo.append(node.left)
        elif not isinstance(node, _CONDITIONAL):
            todo.extend(node.children)
    return found
