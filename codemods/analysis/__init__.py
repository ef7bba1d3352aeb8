"""Pure decisions over the project index; rules read them through the `Plan` facade."""

from .colouring import ASYNC_SPECIAL_METHODS
from .helpers import HelperShape
from .kinds import ObjKind
from .plan import Plan
from .project import FunctionRef
from .reads import CONVERTING_BUILTINS
from .state import RunState

__all__ = ["ASYNC_SPECIAL_METHODS", "CONVERTING_BUILTINS", "FunctionRef", "HelperShape", "ObjKind",
           "Plan", "RunState"]
