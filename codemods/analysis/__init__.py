"""Pure decisions over the project index; rules read them through the `Plan` facade."""

from .plan import CONVERTING_BUILTINS, FunctionRef, HelperShape, ObjKind, Plan

__all__ = ["CONVERTING_BUILTINS", "FunctionRef", "HelperShape", "ObjKind", "Plan"]
