"""Mapped-class attributes as the index records them: relationships (target, collection or
not, loading strategy, backref) and columns that cannot be hashed."""

from __future__ import annotations

import ast

from .model import RelationshipInfo
from .shapes import annotation_names, dotted_name, keyword_text

_UNHASHABLE_TYPES = frozenset({"JSON", "JSONB", "ARRAY", "PickleType", "HSTORE", "dict", "list"})


def is_unhashable_column(call: ast.Call, annotation: ast.expr | None) -> bool:
    """A column whose Python values (dict, list) cannot be put in a set."""
    names = [n.rpartition(".")[2] for a in call.args for n in annotation_names(a)]
    if annotation is not None:
        inner = annotation.slice if isinstance(annotation, ast.Subscript) else None
        names += [n.rpartition(".")[2] for n in annotation_names(inner)][:1]
    return any(n in _UNHASHABLE_TYPES for n in names)


def foreign_key_targets(call: ast.Call) -> set[str]:
    """What a column's foreign keys point to: "teams" for `ForeignKey("teams.id")` or
    `Field(foreign_key="teams.id")`, "Team" for `ForeignKey(Team.id)`."""
    found = set()
    for node in ast.walk(call):
        if isinstance(node, ast.Call) and (dotted_name(node.func) or "").rpartition(".")[2] == (
                "ForeignKey") and node.args:
            referent = node.args[0]
        elif isinstance(node, ast.keyword) and node.arg == "foreign_key":
            referent = node.value
        else:
            continue
        text = referent.value if isinstance(referent, ast.Constant) and isinstance(
            referent.value, str) else dotted_name(referent)
        if text and "." in text:
            found.add(text.rpartition(".")[0].rpartition(".")[2])
    return found


_MAPPED_WRAPPERS = ("Mapped[", "DynamicMapped[", "WriteOnlyMapped[")
# Annotations of a collection (the outermost name once Optional/Union/`| None` are taken off).
_COLLECTIONS = frozenset({"list", "List", "set", "Set", "dict", "Dict", "Sequence",
                          "MutableSequence", "MutableSet", "AbstractSet", "Collection",
                          "Iterable", "Mapping", "MutableMapping", "FrozenSet", "frozenset"})


def _is_collection(annotation: ast.expr) -> bool:
    """`list["Hero"]`, `Optional[List[Hero]]`, `typing.List[Hero]`, `"list[Hero]"`."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _is_collection(annotation.left) or _is_collection(annotation.right)
    if not isinstance(annotation, ast.Subscript):
        return False
    outer = (dotted_name(annotation.value) or "").rpartition(".")[2]
    if outer in ("Optional", "Union"):
        inner = annotation.slice
        parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        return any(_is_collection(p) for p in parts)
    return outer in _COLLECTIONS


def relationship_info(attr: str, call: ast.Call, annotation: ast.expr | None) -> RelationshipInfo:
    target = None
    if call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            target = first.value
        else:
            target = dotted_name(first)
    uselist: bool | None = None
    if annotation is not None:
        text = ast.unparse(annotation).strip("\"'")
        wrapper, _, inner = text.partition("[") if text.startswith(_MAPPED_WRAPPERS) else (
            "", "", text)
        # `Mapped[Team]` and SQLModel's `team: Team | None = Relationship()` are scalar
        inside = annotation.slice if wrapper and isinstance(annotation, ast.Subscript) else (
            annotation)
        if wrapper and not isinstance(annotation, ast.Subscript):  # `"Mapped[list[X]]"`
            inside = ast.Constant(inner.strip("\"'")[:-1])
        uselist = wrapper in ("DynamicMapped", "WriteOnlyMapped") or _is_collection(inside)
        if target is None:
            names = [n for n in annotation_names(annotation)
                     if n.rpartition(".")[2] not in {"Mapped", "Optional", "Union",
                                                     "DynamicMapped", "WriteOnlyMapped",
                                                     "typing", "str", "int", *_COLLECTIONS}]
            target = names[-1] if names else None
    uselist_kw = keyword_text(call, "uselist")
    if uselist_kw in {"True", "False"}:
        uselist = uselist_kw == "True"
    lazy = keyword_text(call, "lazy")
    kwargs = next((kw.value for kw in call.keywords if kw.arg == "sa_relationship_kwargs"), None)
    if lazy is None and isinstance(kwargs, ast.Dict):
        for key, value in zip(kwargs.keys, kwargs.values, strict=False):
            if isinstance(key, ast.Constant) and key.value == "lazy" and isinstance(
                    value, ast.Constant):
                lazy = repr(value.value)
    backref = next((kw.value for kw in call.keywords if kw.arg == "backref"), None)
    backref_name = backref_lazy = None
    if isinstance(backref, ast.Call) and backref.args:  # backref("user", lazy="joined")
        backref_lazy = keyword_text(backref, "lazy")
        backref = backref.args[0]
    if isinstance(backref, ast.Constant) and isinstance(backref.value, str):
        backref_name = backref.value
    return RelationshipInfo(attr=attr, target=target, uselist=uselist,
                            lazy=lazy.strip("'\"") if lazy else None, backref=backref_name,
                            backref_lazy=backref_lazy.strip("'\"") if backref_lazy else None,
                            secondary=any(kw.arg == "secondary" for kw in call.keywords),
                            back_populates=(keyword_text(call, "back_populates") or "").strip(
                                "'\"") or None,
                            remote_side=any(kw.arg == "remote_side" for kw in call.keywords))
