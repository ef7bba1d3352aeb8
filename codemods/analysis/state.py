"""What a run has decided so far, as one immutable value the engine replaces each round."""

from __future__ import annotations

from dataclasses import dataclass

from .project import FunctionRef


@dataclass(frozen=True)
class RunState:
    # modules outside an incremental run's selection (indexed, not rewritten)
    context: frozenset[str] = frozenset()
    console_scripts: frozenset[FunctionRef] = frozenset()  # [project.scripts] targets
    # Functions outside the selection that do sync session I/O (or call such functions), and
    # functions kept sync: migrated code calls them through `session.run_sync`.
    legacy: frozenset[FunctionRef] = frozenset()
    # functions left synchronous because they keep legacy code (callers use run_sync)
    keep_sync: frozenset[FunctionRef] = frozenset()
    kept_because: frozenset[tuple[FunctionRef, str]] = frozenset()  # (kept function, why)
    # kept-sync entry points a framework calls with the async session: each becomes an
    # `async def` running its unchanged body, as a nested function, through run_sync
    sync_shells: frozenset[FunctionRef] = frozenset()
    # functions holding legacy query variables that cannot stay synchronous: the variables
    # stay legacy Queries on the session's sync_session, each use that runs one behind
    # run_sync (rewrite/sync_session_variables.py)
    behind_run_sync: frozenset[FunctionRef] = frozenset()
    # functions handing such a legacy Query back, with the session it is on as they name it
    # (`Plan.find_legacy_builders`): their callers run it behind run_sync too
    legacy_builders: frozenset[tuple[FunctionRef, str]] = frozenset()
    async_functions: frozenset[FunctionRef] = frozenset()  # what the colouring made async
    # (module, old local name, new local name): imported names the rewrite replaced there
    # (`Session` -> `AsyncSession`), so the module binds the new name
    renamed: frozenset[tuple[str, str, str]] = frozenset()
