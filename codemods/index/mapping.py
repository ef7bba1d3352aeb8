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


_MAPPED_WRAPPERS = ("Mapped[", "DynamicMapped[", "WriteOnlyMapped[")


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
        uselist = wrapper in ("DynamicMapped", "WriteOnlyMapped") or inner.strip(
            "\"'").startswith(("list[", "List[", "set[", "Set["))
        if target is None:
            names = [n for n in annotation_names(annotation)
                     if n not in {"Mapped", "list", "List", "Optional", "set", "Set",
                                  "DynamicMapped", "WriteOnlyMapped"}]
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
                                "'\"") or None)
