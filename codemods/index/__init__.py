"""The project index: raw facts about every module, read with the stdlib `ast` parser."""

from .indexer import index_source
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
    RelationshipInfo,
    ReturnedQuery,
)
from .shapes import PASSING_ON

__all__ = ["ALIAS", "CALL", "ELEMENT", "ENTER", "PARAM", "PASSING_ON", "QUERY", "TYPE", "VALUE",
           "Binding", "CallSite", "ClassInfo", "FunctionInfo", "ModuleIndex", "RelationshipInfo",
           "ReturnedQuery", "index_source"]
