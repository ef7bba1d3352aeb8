"""Which FastAPI apps get a `lifespan` handler from this run — decided once, from the index.

`Base.metadata.create_all(bind=engine)` at module level cannot await where it stands; in a
module that builds a FastAPI app, SQA010 moves it into a `lifespan` handler the app is built
with. That changes when the tables exist: at import before, now only when something runs the
app's lifespan (uvicorn does; a test client only inside `with TestClient(app):`). SQA010 acts
on this answer, and the rules looking at the app's clients (SQA309) ask the same one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Config
from ..index import ModuleIndex
from ..index.model import TopLevelCall
from ..index.shapes import DDL_METHODS
from ..todo import is_suppressed
from .kinds import Kinds, ObjKind
from .project import Project

FASTAPI = "fastapi.FastAPI"
DDL_RULE = "SQA010"  # the rule that moves module-level DDL into the lifespan
_START_UP_KEYWORDS = ("lifespan", "on_startup")


def is_pytest_module(module: str) -> bool:
    """A module pytest collects or loads as configuration: `test_*`, `*_test`, conftest."""
    name = module.rpartition(".")[2]
    return name.startswith("test_") or name.endswith("_test") or name == "conftest"


@dataclass(frozen=True)
class AppStartup:
    """A module's FastAPI app (the first built at module level) and its module-level DDL."""

    app: str  # the app's name in its module
    at: int  # place of `app = FastAPI(...)` among the module's statements
    busy: str | None  # why no lifespan can be added: the app has a start-up handler already
    moving: frozenset[int]  # places of the DDL statements that move into the new lifespan

    @property
    def lifespan(self) -> bool:
        """The app gets a lifespan handler from this run."""
        return self.busy is None and bool(self.moving)

    def cannot_move(self, at: int) -> str | None:
        """Why the module-level DDL statement at place `at` does not move, or None."""
        if self.busy:
            return f"it runs at module level and {self.busy}"
        if at > self.at:
            return "it runs at module level after the FastAPI app is built (move it before)"
        return None if at in self.moving else "it runs at module level"


class Startups:
    """The answers above, per module (state-free: the selection is the plan's business)."""

    def __init__(self, project: Project, kinds: Kinds) -> None:
        self.project, self.kinds = project, kinds

    def app_startup(self, ix: ModuleIndex, config: Config) -> AppStartup | None:
        """The module's FastAPI app and what moves into its lifespan under `config` (None:
        the module builds no FastAPI app at module level)."""
        app = next((c for c in ix.top_level_calls if c.target and (
            self.project.qualify(ix, c.callee) == FASTAPI)), None)
        if app is None:
            return None
        on_event = any(d.rpartition(".")[2] == "on_event"
                       for info in ix.functions.values() for d in info.decorators)
        busy = "the FastAPI app already has a start-up handler: move it there" if on_event or any(
            key in _START_UP_KEYWORDS for key, _ in app.kwargs) else None
        enabled = config.target == "async" and not ix.runs_under_alembic and config.enables(
            DDL_RULE)
        moving = frozenset(c.at for c in ix.top_level_calls if enabled and not busy and (
            c.at < app.at and self._moves(ix, c)))
        return AppStartup(app.target or "", app.at, busy, moving)

    def _moves(self, ix: ModuleIndex, call: TopLevelCall) -> bool:
        """`metadata.create_all(engine)` (or drop_all, reflect) on an engine or connection,
        which SQA010 may rewrite here."""
        if call.target is not None or call.callee.rpartition(".")[2] not in DDL_METHODS or (
                "." not in call.callee) or is_suppressed(DDL_RULE, set(call.suppressed)):
            return False
        bind = call.args[0] if call.args else dict(call.kwargs).get("bind")
        return bind is not None and self.kinds.kind(ix, "", bind) in (ObjKind.ENGINE,
                                                                       ObjKind.CONNECTION)
