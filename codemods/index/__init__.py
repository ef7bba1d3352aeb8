"""The project index: raw facts about every module, read with the stdlib `ast` parser."""

from .indexer import (
    ALIAS,
    CALL,
    ENTER,
    PARAM,
    PASSING_ON,
    QUERY,
    VALUE,
    Binding,
    CallSite,
    ClassInfo,
    FunctionInfo,
    ModuleIndex,
    RelationshipInfo,
    ReturnedQuery,
    index_source,
)

__all__ = ["ALIAS", "CALL", "ENTER", "PARAM", "PASSING_ON", "QUERY", "VALUE", "Binding",
           "CallSite", "ClassInfo", "FunctionInfo", "ModuleIndex", "RelationshipInfo",
           "ReturnedQuery", "index_source"]
