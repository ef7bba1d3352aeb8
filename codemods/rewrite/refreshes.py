"""What a function does to the state of its objects, statement by statement, for the rules that
insert `await session.refresh(obj[, names])` where the synchronous program reloaded an object
(SQA403 after rollback()/expire(), SQA408 after commit() and around refresh()). A script's
module-level statements, which run as one in its async entry point (scripts.py), count as
a function too.

Statements are numbered in source order (pre-order: a compound statement before its body),
not entering nested functions, classes or lambdas; reads come from `statement_reads`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial

import libcst as cst

from ..analysis import ObjKind, Plan
from ..api_surface import (
    ASYNC_SESSION_CLASSES,
    ASYNC_SESSIONMAKERS,
    EXPIRE_ON_COMMIT,
    SESSION_CLASSES,
    SESSIONMAKERS,
)
from ..index import ModuleIndex
from .context import Context, callee, dotted
from .reads import Body, block_of, statement_reads
from .traversal import Visitor

# Methods on a collection that change which objects it holds.
_MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "add",
                       "discard", "update", "__setitem__", "__delitem__"})
# session factories and classes (async ones: a re-run reads the migrated code)
_FACTORIES = SESSIONMAKERS | SESSION_CLASSES | ASYNC_SESSIONMAKERS | ASYNC_SESSION_CLASSES


@dataclass(frozen=True)
class SessionCall:
    """`session.<method>(...)` as a whole statement."""

    position: int
    session: str  # the receiver's code: "session", "self.db"
    method: str
    call: cst.Call
    statement: cst.SimpleStatementLine | cst.With
    # `with session.begin():` commits when its block ends: `position` is the block's last
    # statement (included in what the commit ends), `statement` the `with`
    block_end: bool = False


@dataclass
class FunctionState:
    """The statements of one function and what each does to objects."""

    statements: list[cst.CSTNode] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=dict)  # id(statement) -> position
    binds: dict[int, set[str]] = field(default_factory=dict)  # position -> names bound
    reads: dict[int, list[str]] = field(default_factory=dict)  # position -> chains read
    calls: list[SessionCall] = field(default_factory=list)
    params: set[str] = field(default_factory=set)
    # position -> end (exclusive) of what runs after it: a `return`/`raise`/`break`/
    # `continue` later in its block stops there
    stops: dict[int, int] = field(default_factory=dict)
    blocks: list[list[cst.CSTNode]] = field(default_factory=list)  # the statements of each block

    @classmethod
    def collect(cls, ctx: Context, function: Body) -> FunctionState:
        state = cls()
        walker = _Statements()
        walker.walk(block_of(function))
        state.statements = walker.found
        state.positions = {id(s): i for i, s in enumerate(walker.found)}
        state.blocks = walker.blocks
        for i, statement in enumerate(walker.found):
            state.binds[i] = _bound_names(statement)
            if isinstance(statement, cst.SimpleStatementLine):
                found = session_call(ctx, statement)
                if found is not None:
                    state.calls.append(SessionCall(i, *found, statement))
        for statement in walker.found:
            begin = _session_begin(ctx, statement)
            if begin is not None:
                last = max(FunctionState.collect_positions(statement.body, state),
                           default=state.positions[id(statement)])
                state.calls.append(SessionCall(last, begin[0], "commit", begin[1], statement,
                                               block_end=True))
        state.calls.sort(key=lambda c: (c.position, c.block_end))
        targets = {i: _target_chains(s) for i, s in enumerate(walker.found)}
        for statement, chain in statement_reads(function):
            position = state.positions.get(id(statement))
            if position is not None and chain not in targets[position]:
                state.reads.setdefault(position, []).append(chain)
        for i, statement in enumerate(walker.found):
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
            if isinstance(small, cst.Return) and isinstance(small.value, cst.Name):
                state.reads.setdefault(i, []).append(small.value.value)  # read by the caller
        for block in walker.blocks:
            stop = None
            for statement in reversed(block):
                position = state.positions.get(id(statement))
                if position is None:  # a statement the walker did not number (found by fuzzing)
                    continue
                small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) \
                    else None
                if isinstance(small, cst.Return | cst.Raise | cst.Break | cst.Continue):
                    stop = position + 1
                if stop is not None:
                    state.stops[position] = stop
        state.params = {p.name.value for p in _parameters(function)}
        return state

    @staticmethod
    def collect_positions(block: cst.CSTNode, state: FunctionState) -> set[int]:
        """Positions of the statements inside `block`."""
        walker = _Statements()
        walker.walk(block)
        return {state.positions[id(s)] for s in walker.found if id(s) in state.positions}

    def span(self, statement: cst.CSTNode) -> set[int]:
        """Positions of `statement` and of the statements inside it."""
        return {self.positions[id(statement)]} | FunctionState.collect_positions(statement, self)

    def bound_before(self, position: int) -> set[str]:
        names = set(self.params)
        for i in range(position):
            names |= self.binds[i]
        return names

    def chains_after(self, name: str, start: int, end: int) -> tuple[list[str], int | None]:
        """Chains read on `name` (its head) after `start` and before `end`, up to a statement
        binding it anew; and the position of the first statement reading it."""
        found, first = [], None
        for i in range(start + 1, min(end, self.stops.get(start, end))):
            chains = [c for c in self.reads.get(i, ()) if c.split(".")[0] == name]
            if chains:
                found += chains
                first = i if first is None else first
            if name in self.binds[i]:
                break
        return found, first


def _parameters(function: Body) -> tuple[cst.Param, ...]:
    if isinstance(function, cst.Module):
        return ()
    return (*function.params.params, *function.params.kwonly_params,
            *function.params.posonly_params)


def in_entry_point(ctx: Context) -> bool:
    """The module's own top-level statements run inside its async entry point (SQA307
    moves them there): a rule may treat them as one function that can await."""
    entry = ctx.entry
    return entry is not None and bool(entry.moving) and entry.blocked is None


# -- an object printed while expired -------------------------------------------------------------
_PRINTING = ("__str__", "__repr__")
# the statements a refresh can follow (the rules inserting one leave each of these types)
REFRESH_ANCHORS = (cst.SimpleStatementLine, cst.If, cst.For, cst.While, cst.Try, cst.With)


@dataclass(frozen=True)
class ExpiredPrint:
    """A SQLModel object whose first read after its session expired it prints it whole: the
    sync program printed it with no fields (SQLModel prints what is in its `__dict__`, and
    printing loads nothing). `statement`: the statement of the expiring call's block doing
    the print, after which the object can be loaded again (`end`: its last position).
    `closed`: the `with` block that opened the session ends first (at that statement, or
    before the print), so nothing reads the object before it is detached, expired as in the
    sync program: it needs no load. Neither: the object is used otherwise too up to the
    print, or the print is elsewhere, and the tool cannot tell what the sync program
    printed."""

    statement: cst.CSTNode | None = None
    end: int = -1
    closed: bool = False

    @property
    def known(self) -> bool:
        return self.statement is not None or self.closed


def expired_print(ctx: Context, state: FunctionState, call: SessionCall, name: str,
                  cls: str | None, chains: list[str], first: int) -> ExpiredPrint | None:
    """How `name`, expired by `call` and first read at `first` (`chains`: what is read from
    there on), is printed there while expired; None where it is not."""
    if not chains or chains[0].partition(".")[2] not in _PRINTING or not is_sqlmodel(ctx, cls):
        return None
    block = next((b for b in state.blocks if any(s is call.statement for s in b)), [])
    after = block[next((i for i, s in enumerate(block) if s is call.statement), len(block)) + 1:]
    # the `with` block that opened the session, when the expiring call is right in it
    opened = next((w for w in state.statements if isinstance(w, cst.With) and any(
        s is call.statement for s in w.body.body) and call.session in _bound_names(w)), None)
    for i, statement in enumerate(after):
        span = state.span(statement)
        if first not in span:
            continue
        if not isinstance(statement, REFRESH_ANCHORS) or any(
                _mentions(s, name) for s in after[:i]) or not _only_printed(
                state, statement, span, name) or any(
                c.position in span and c.session == call.session for c in state.calls):
            break
        return ExpiredPrint(statement, max(span), opened is not None and statement is after[-1])
    else:
        if opened is not None and not any(_mentions(s, name) for s in after):
            return ExpiredPrint(closed=True)  # read after the session closed
    return ExpiredPrint()


def _only_printed(state: FunctionState, statement: cst.CSTNode, span: set[int],
                  name: str) -> bool:
    """`name` stands in `statement` only to be printed whole."""
    reads = [c for p in span for c in state.reads.get(p, ()) if c.partition(".")[0] == name]
    return _mentions(statement, name) == len(reads) and all(
        c.partition(".")[2] in _PRINTING for c in reads)


def expired_print_todo(ctx: Context, code: str, call: SessionCall, name: str) -> None:
    """The TODO where `expired_print` cannot tell what the sync program printed."""
    ctx.todo(code, f"{name} is printed soon after {call.method}() and used otherwise too up "
                   f"to that print (or printed outside the block of the {call.method}()): the "
                   "refresh below makes the print show its fields, but where the sync "
                   "program printed it before anything reloaded it, it showed none (an "
                   "expired SQLModel object): to print the same there, call "
                   f"{call.session}.expire({name}) before the print and await "
                   f"{call.session}.refresh({name}) after it", call.statement,
             at=call.statement)


class _Mentions(Visitor):
    def __init__(self, name: str) -> None:
        self.name, self.count = name, 0

    def visit_Name(self, node: cst.Name) -> None:
        self.count += node.value == self.name


def _mentions(node: cst.CSTNode, name: str) -> int:
    """How often the name `name` stands below `node`."""
    visitor = _Mentions(name)
    visitor.walk(node)
    return visitor.count


def expire_statement(session: str, name: str) -> cst.SimpleStatementLine:
    statement = cst.parse_statement(f"{session}.expire({name})")
    assert isinstance(statement, cst.SimpleStatementLine)
    return statement


def already_there(state: FunctionState, position: int, new: cst.CSTNode, step: int) -> bool:
    """`new` (a refresh) is among the refreshes right after (`step` 1) or before (-1) the
    statement at `position`: a re-run adds none."""
    code = cst.Module([]).code_for_node(new).strip()
    refreshes = {c.position: c for c in state.calls if c.method == "refresh"}
    i = position + step
    while i in refreshes:
        if cst.Module([]).code_for_node(refreshes[i].statement).strip() == code:
            return True
        i += step
    return False


def _session_begin(ctx: Context, statement: cst.CSTNode) -> tuple[str, cst.Call] | None:
    """(session code, call) for `with session.begin():` on a session the function holds."""
    if not isinstance(statement, cst.With):
        return None
    for item in statement.items:
        call = item.item
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and (
                call.func.attr.value == "begin") and ctx.kind(call.func.value) is ObjKind.SESSION:
            return cst.Module([]).code_for_node(call.func.value), call
    return None


def session_call(ctx: Context, statement: cst.SimpleStatementLine
                 ) -> tuple[str, str, cst.Call] | None:
    """(receiver code, method, call) for a statement `session.method(...)` on a session."""
    if len(statement.body) != 1 or not isinstance(statement.body[0], cst.Expr):
        return None
    value = statement.body[0].value
    if isinstance(value, cst.Await):
        value = value.expression
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
        return None
    receiver = value.func.value
    if ctx.kind(receiver) is not ObjKind.SESSION:
        return None
    return cst.Module([]).code_for_node(receiver), value.func.attr.value, value


class _Statements(Visitor):
    def __init__(self) -> None:
        self.found: list[cst.CSTNode] = []
        self.blocks: list[list[cst.CSTNode]] = []  # the statements of each block

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            return False
        if isinstance(node, cst.IndentedBlock | cst.Module):
            self.blocks.append(list(node.body))
        if isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            self.found.append(node)
        return not isinstance(node, cst.SimpleStatementLine)


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        return {n for e in target.elements for n in _target_names(e.value)}
    return set()


def _target_chains(statement: cst.CSTNode) -> set[str]:
    """Attribute chains a simple statement assigns (`hero.team = None`): written, not read."""
    found: set[str] = set()
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else (
                [small.target] if isinstance(small, cst.AnnAssign) else [])
            found |= {d for t in targets if (d := dotted(t)) is not None}
    return found


def _bound_names(statement: cst.CSTNode) -> set[str]:
    """Names a statement (a compound one: its header) binds."""
    names: set[str] = set()
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for t in small.targets:
                    names |= _target_names(t.target)
            elif isinstance(small, cst.AnnAssign | cst.AugAssign):
                names |= _target_names(small.target)
    elif isinstance(statement, cst.For):
        names |= _target_names(statement.target)
    elif isinstance(statement, cst.With):
        for item in statement.items:
            if item.asname is not None:
                names |= _target_names(item.asname.name)
    return names


def with_inserted(original: cst.SimpleStatementLine, updated: cst.BaseStatement,
                  before: dict[int, list[cst.BaseStatement]],
                  after: dict[int, list[cst.BaseStatement]]
                  ) -> cst.BaseStatement | cst.FlattenSentinel:
    """`updated` with the statements a rule planned before and after `original` (the
    comments above it stay on top)."""
    ahead, behind = before.pop(id(original), []), after.pop(id(original), [])
    if not ahead and not behind:
        return updated
    nodes = list(updated.nodes) if isinstance(updated, cst.FlattenSentinel) else [updated]
    if ahead and isinstance(nodes[0], cst.SimpleStatementLine):
        ahead[0] = ahead[0].with_changes(leading_lines=nodes[0].leading_lines)
        nodes[0] = nodes[0].with_changes(leading_lines=())
    return cst.FlattenSentinel([*ahead, *nodes, *behind])


def refresh_statement(session: str, name: str, names: list[str] | None = None
                      ) -> cst.SimpleStatementLine:
    listed = ", [" + ", ".join(f'"{n}"' for n in names) + "]" if names else ""
    statement = cst.parse_statement(f"await {session}.refresh({name}{listed})")
    assert isinstance(statement, cst.SimpleStatementLine)
    return statement


# -- what a class is and has ---------------------------------------------------------------------
def class_of(ctx: Context, function: Body, name: str) -> str | None:
    """The mapped class a variable holds, where the function says: `x = Model(...)`,
    `x = Model.model_validate(...)`, `x = session.get(Model, ...)`, `x: Model` parameters."""
    plan, ix, scope = ctx.plan, ctx.ix, ctx.scope
    annotated = _annotation_names(function, name)
    if annotated is not None:
        return plan.annotated_class(ix, scope, annotated)
    walker = _Statements()
    walker.walk(block_of(function))
    assigned = next((value for s in walker.found if isinstance(s, cst.SimpleStatementLine)
                     and isinstance(small := s.body[0], cst.Assign) and len(small.targets) == 1
                     and isinstance(small.targets[0].target, cst.Name)
                     and small.targets[0].target.value == name
                     and isinstance(value := (small.value.expression if isinstance(
                         small.value, cst.Await) else small.value), cst.Call)), None)
    if assigned is None:
        return None
    func = callee(assigned.func) or ""
    if func.endswith(".get") and assigned.args:
        func = dotted(assigned.args[0].value) or ""
    elif func.rpartition(".")[2] in ("model_validate", "from_orm", "parse_obj"):
        func = func.rpartition(".")[0]
    elif func.rpartition(".")[2] in _ONE_ROW:  # `session.query(User).first()`, select too
        func = _queried(assigned) or ""
    return plan.mapped_class(ix, scope, func) if func else None


# Annotations of values that are no ORM objects (`trace_id: str`, `Optional[UUID]`).
_VALUE_TYPES = frozenset({
    "str", "int", "float", "bool", "bytes", "complex", "None", "Optional", "Union", "Literal",
    "list", "dict", "set", "frozenset", "tuple", "List", "Dict", "Set", "FrozenSet", "Tuple",
    "typing", "UUID", "uuid", "datetime", "date", "time", "timedelta", "Decimal", "decimal",
    "Path", "pathlib"})


def holds_plain_value(function: Body, name: str) -> bool:
    """`name` is a parameter annotated as a plain value (`trace_id: str`), which is no
    object a session could refresh."""
    annotated = _annotation_names(function, name)
    return annotated is not None and set(annotated) <= _VALUE_TYPES


def _annotation_names(function: Body, name: str) -> list[str] | None:
    """The names in the annotation of the function's parameter `name`, if it has one."""
    for param in _parameters(function):
        if param.name.value == name and param.annotation is not None:
            text = cst.Module([]).code_for_node(param.annotation.annotation)
            return re.findall(r"[A-Za-z_]\w*", text)
    return None


# the methods that hand back one object of a query's entity
_ONE_ROW = frozenset({"first", "one", "one_or_none", "scalar", "scalar_one",
                      "scalar_one_or_none"})


def _queried(call: cst.Call) -> str | None:
    """The entity of the innermost `.query(E)` / `select(E)` along a call chain."""
    node: cst.BaseExpression = call
    found = None
    while isinstance(node, cst.Call | cst.Attribute | cst.Await):
        if isinstance(node, cst.Call):
            name = (callee(node.func) or "").rpartition(".")[2]
            if name in ("query", "select") and node.args:
                found = dotted(node.args[0].value) or found
            inner = node.args[0].value if name in ("scalars", "execute", "exec") and (
                node.args) else node.func
            node = inner
        else:
            node = node.expression if isinstance(node, cst.Await) else node.value
    return found


_COMPUTED_KEYWORDS = frozenset({"onupdate", "server_onupdate"})
_COMPUTED_CALLS = frozenset({"Computed", "FetchedValue", "Identity"})


def _class_chain(ctx: Context, cls: str) -> list[tuple[ModuleIndex, str]]:
    """(module index, class name) for the class qualified `cls` and its project bases."""
    found = ctx.plan.lookup(cls)
    return list(ctx.plan.lineage(found)) if found and found[1] in found[0].classes else []


def database_computed(ctx: Context, cls: str | None) -> bool:
    """The class (or a base of it) has columns the database computes on UPDATE
    (`onupdate=`, `server_onupdate=`, `Computed(...)`): the flush expires them."""
    if cls is None:
        return False
    for ix, name in _class_chain(ctx, cls):
        for site in ix.calls_in(name):
            if _COMPUTED_KEYWORDS & {k for k, _ in site.kwargs} or (
                    site.callee.rpartition(".")[2] in _COMPUTED_CALLS):
                return True
    return False


def is_sqlmodel(ctx: Context, cls: str | None) -> bool:
    """A SQLModel table class: printing it shows the fields in its __dict__ (none while
    expired), without loading anything."""
    return cls is not None and any(
        ctx.plan.qualify(ix, base).startswith("sqlmodel")
        for ix, name in _class_chain(ctx, cls) for base in ix.classes[name].bases)


def is_relationship(ctx: Context, cls: str | None, attr: str) -> bool:
    """`attr` is a relationship of `cls`, or (class unknown) of some mapped class."""
    if cls is not None:
        return ctx.plan.relationship(cls, attr) is not None
    return attr in _relationship_owners(ctx.plan)


def lazy_relationship(ctx: Context, cls: str | None, attr: str) -> bool:
    """A relationship that loads on first access (refresh() leaves it unloaded)."""
    if cls is not None:
        return ctx.plan.relationship(cls, attr) is not None and ctx.plan.loads_implicitly(
            cls, attr)
    return any(ctx.plan.loads_implicitly(qualified, attr)
               for qualified in _relationship_owners(ctx.plan).get(attr, ()))


def _relationship_owners(plan: Plan) -> dict[str, list[str]]:
    """Relationship name -> the mapped classes declaring one of that name (asked per read
    of an object whose class is unknown: a table, not a scan of every mapped class)."""
    return plan.once("relationship owners", _owners)


def _owners(plan: Plan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for qualified, info in plan.mapped_classes.items():
        for attr in info.relationships:
            found.setdefault(attr, []).append(qualified)
    return found


def relationships_read(ctx: Context, cls: str | None, name: str, chains: list[str],
                       lazy_only: bool = False) -> list[str]:
    """Relationship attributes of `name` that `chains` read (with what printing it reads,
    when the class is known), in order of first read."""
    attrs = [c.split(".")[1] for c in chains if c.count(".") >= 1]
    if cls is not None:
        own = {c.partition(".")[2] for c in chains if c.partition(".")[0] == name}
        attrs += [c.split(".")[0] for c in sorted(ctx.plan.implicit_reads(cls, own) - own)]
    check = lazy_relationship if lazy_only else is_relationship
    return [a for a in dict.fromkeys(attrs) if not a.startswith("__") and check(ctx, cls, a)]


# -- what a transaction changed --------------------------------------------------------------------
class Changes(Visitor):
    """What statements of a transaction change: objects written (`x.attr = ...`, built or
    added), whether relationships or foreign keys moved, whether SQL bypassed the ORM."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.written: set[str] = set()
        self.built: set[str] = set()
        self.added: set[str] = set()  # given to session.add()/add_all()
        self.relationships = False
        self.raw_sql = False

    def _relationship_attr(self, attr: str) -> bool:
        return attr.endswith("_id") or is_relationship(self.ctx, None, attr)

    def _target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute):
            head = dotted(target.value)
            if head is not None and "." not in head:
                self.written.add(head)
            self.relationships |= self._relationship_attr(target.attr.value)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Attribute):
            self.relationships |= self._relationship_attr(target.value.attr.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._target(t.target)
        value = node.value
        if isinstance(value, cst.Call) and len(node.targets) == 1 and isinstance(
                node.targets[0].target, cst.Name) and self.ctx.plan.mapped_class(
                self.ctx.ix, self.ctx.scope, callee(value.func) or ""):
            self.built.add(node.targets[0].target.value)

    def _assigned(self, node: cst.AugAssign | cst.AnnAssign | cst.Del) -> None:
        self._target(node.target)

    visit_AugAssign = visit_AnnAssign = visit_Del = _assigned

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in _MUTATORS and isinstance(func.value, cst.Attribute) and (
                    is_relationship(self.ctx, None, func.value.attr.value)):
                self.relationships = True
            if self.ctx.kind(func.value) is ObjKind.SESSION:
                if method == "delete":
                    self.relationships = True
                elif method in ("add", "add_all") and node.args:
                    arg = node.args[0].value
                    items = [e.value for e in arg.elements] if isinstance(
                        arg, cst.List | cst.Tuple) else [arg]
                    added = {i.value for i in items if isinstance(i, cst.Name)}
                    self.written |= added
                    self.added |= added
                elif method in ("execute", "exec", "scalar", "scalars") and node.args:
                    self.raw_sql |= _textual(node.args[0].value)
            if method == "exec_driver_sql":
                self.raw_sql = True
        mapped = self.ctx.plan.mapped_class(self.ctx.ix, self.ctx.scope, callee(func) or "")
        if mapped and any(a.keyword is not None and self._relationship_attr(a.keyword.value)
                          for a in node.args):
            self.relationships = True  # `Hero(team=team)`: the team's collection changes


def _textual(arg: cst.BaseExpression) -> bool:
    """SQL the ORM does not see: `text("...")` or a string."""
    if isinstance(arg, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
        return True
    return isinstance(arg, cst.Call) and (callee(arg.func) or "").rpartition(".")[2] == "text"


def changes(ctx: Context, state: FunctionState, start: int, end: int) -> Changes:
    """What the statements strictly between positions `start` and `end` change."""
    found = Changes(ctx)
    for i in range(start + 1, end):
        statement = state.statements[i]
        if isinstance(statement, cst.SimpleStatementLine):
            found.walk(statement)
        elif isinstance(statement, cst.For | cst.While | cst.If | cst.With):
            header = statement.target if isinstance(statement, cst.For) else None
            if header is not None:
                found.walk(header)
    return found


# -- whether sessions expire on commit in the original program -------------------------------------
def project_expires_on_commit(ctx: Context) -> bool:
    """Sessions of the project expired their objects on commit in the original program: some
    sync session factory or Session() call leaves expire_on_commit at its default (True), or
    the project makes none (its sessions come from outside: the default). Asked once per
    run (it reads every module's calls)."""
    return ctx.plan.once("expires_on_commit", _expires_on_commit)


def _sets_expiry(plan: Plan, module: ModuleIndex, local: str) -> bool:
    """Every module-level sessionmaker call of `module` making `local` sets
    expire_on_commit."""
    makers = {b.targets[0] for b in plan.bindings(module, "", local)
              if b.targets and plan.qualify(module, b.targets[0]) in _FACTORIES}
    sites = [s for s in module.calls_in("") if s.callee in makers]
    return bool(sites) and all(EXPIRE_ON_COMMIT in {k for k, _ in s.kwargs} for s in sites)


def _expires_on_commit(plan: Plan) -> bool:
    sites = [site for ix in plan.modules.values() for site in ix.calls
             if plan.qualify(ix, site.callee) in _FACTORIES]
    return not sites or any(EXPIRE_ON_COMMIT not in {k for k, _ in site.kwargs}
                            for site in sites)


def explicit_sessions(ctx: Context, function: Body) -> set[str]:
    """Session variables of the function made by a factory call or Session() that sets
    expire_on_commit itself (also through a module-level factory that does)."""
    visitor = _SessionMakers(ctx)
    visitor.walk(block_of(function))
    return visitor.explicit


class _SessionMakers(Visitor):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.explicit: set[str] = set()

    def _made(self, name: str, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call):
            return
        if any(a.keyword is not None and a.keyword.value == EXPIRE_ON_COMMIT
               for a in value.args) or self._explicit_factory(value.func):
            self.explicit.add(name)

    def _explicit_factory(self, func: cst.BaseExpression) -> bool:
        """`SessionLocal()` where every module-level sessionmaker call of the module defining
        `SessionLocal` sets expire_on_commit."""
        name = dotted(func)
        if name is None:
            return False
        plan = self.ctx.plan
        qualified = plan.qualify(self.ctx.ix, name) or name
        module = plan.modules.get(qualified.rpartition(".")[0]) or self.ctx.ix
        local = qualified.rpartition(".")[2]
        # (asked for each session a module makes: answered once per factory)
        return plan.once(f"explicit factory {module.path}:{local}",
                         partial(_sets_expiry, module=module, local=local))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # its own sessions (a script's module-level code holds functions)

    visit_ClassDef = visit_Lambda = visit_FunctionDef

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self._made(node.asname.name.value, node.item)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._made(node.targets[0].target.value, node.value)


# -- FastAPI response_model ---------------------------------------------------------------------
def response_refreshes(ctx: Context, function: cst.FunctionDef,
                       state: FunctionState | None = None
                       ) -> list[tuple[cst.SimpleStatementLine, str, str, list[str]]] | None:
    """For a route whose `response_model` serializes the object it returns: (return
    statement, session, returned name, relationships the schema reads on it) for each
    return; None where the tool cannot load them there (the schema or the object's class is
    unknown, a relationship of a relationship is serialized, no session is in sight)."""
    routed = any(isinstance(d.decorator, cst.Call) and any(
        a.keyword is not None and a.keyword.value == "response_model"
        for a in d.decorator.args) for d in function.decorators)
    if not routed:
        return None
    plan = ctx.plan
    ref = (ctx.ix.module, ctx.scope)
    chains = plan.response_schema_reads(ref)
    if not chains:
        return None
    state = state or FunctionState.collect(ctx, function)
    sessions = [c.session for c in state.calls]
    returns = [s for s in state.statements if isinstance(s, cst.SimpleStatementLine)
               and isinstance(s.body[0], cst.Return)]
    if not sessions or not returns:
        return None
    found = []
    for statement in returns:
        value = statement.body[0].value
        if not isinstance(value, cst.Name):
            return None
        cls = class_of(ctx, function, value.value)
        if cls is None:
            return None
        paths = [plan.relationship_paths(cls, chain) for chain in sorted(chains)]
        if any(len(hops) > 1 for hops in paths):
            return None  # refresh() loads one level: a nested relationship stays lazy
        relationships = list(dict.fromkeys(hops[0][1] for hops in paths if hops
                                           and plan.loads_implicitly(*hops[0])))
        if relationships:
            found.append((statement, sessions[0], value.value, relationships))
    return found
