"""Run a migrated program and fail if it did any synchronous database I/O.

Usage: ``python run_guarded.py PROGRAM.py [ARGS...]``

The program runs in this process via ``runpy.run_path(path, run_name="__main__")``, so its
stdout is exactly what it would print on its own; this runner writes only to stderr.

Before the program starts, a ``Pool`` "connect" listener records the type of every DBAPI
connection any engine opens. Under SQLAlchemy 2.1.9 an ``sqlite+aiosqlite`` engine hands the
pool ``sqlalchemy.dialects.sqlite.aiosqlite.AsyncAdapt_aiosqlite_connection`` (a subclass of
``sqlalchemy.connectors.asyncio.AsyncAdapt_dbapi_connection``); a sync ``sqlite://`` engine
hands it a plain ``sqlite3.Connection``. Anything that is not an asyncio adapter counts as
synchronous.

Exit status:
  3  some connection was synchronous (the migration left a sync engine in use);
  N  otherwise, the program's own status (1 for an uncaught exception);
  4  otherwise, an exception was "ignored" by the interpreter (``sys.unraisablehook``) or a
     "coroutine ... was never awaited" warning was shown. With ``-W error::RuntimeWarning``
     a forgotten ``await`` becomes such an ignored exception, which alone would not change
     the exit status;
  0  the program ran to completion with async connections only.
"""

from __future__ import annotations

import gc
import os
import runpy
import sys
import traceback
import warnings

from sqlalchemy import event
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.pool import Pool

EXIT_SYNC_CONNECTION = 3
EXIT_UNRAISABLE = 4

connections: list[tuple[str, bool]] = []  # (module.qualname of the DBAPI connection, is_async)
problems: list[str] = []  # ignored exceptions and never-awaited warnings


def _on_connect(dbapi_connection, connection_record) -> None:
    kind = type(dbapi_connection)
    name = f"{kind.__module__}.{kind.__qualname__}"
    connections.append((name, isinstance(dbapi_connection, AsyncAdapt_dbapi_connection)))


def _on_unraisable(unraisable) -> None:
    problems.append(f"ignored exception in {unraisable.object!r}: {unraisable.exc_value!r}")
    _default_unraisablehook(unraisable)


def _on_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, RuntimeWarning) and "was never awaited" in str(message):
        problems.append(f"{filename}:{lineno}: {category.__name__}: {message}")
    _default_showwarning(message, category, filename, lineno, file, line)


_default_unraisablehook = sys.unraisablehook
_default_showwarning = warnings.showwarning


def run(path: str, args: list[str]) -> int:
    """Run the program at ``path`` as ``__main__``; return its exit status."""
    sys.argv = [path, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(path))  # as if run as `python PROGRAM.py`
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(f"usage: {argv[0]} PROGRAM.py [ARGS...]", file=sys.stderr)
        return 2
    event.listen(Pool, "connect", _on_connect)
    sys.unraisablehook = _on_unraisable
    warnings.showwarning = _on_warning

    status = run(argv[1], argv[2:])
    gc.collect()  # finalize coroutines caught in reference cycles, so they are reported now
    sys.stdout.flush()

    sync = sorted({name for name, is_async in connections if not is_async})
    if sync:
        print(
            f"run_guarded: {len(connections)} DBAPI connection(s) opened; synchronous ones: "
            + ", ".join(sync),
            file=sys.stderr,
        )
        return EXIT_SYNC_CONNECTION
    if status != 0:
        return status
    if problems:
        print(
            "run_guarded: the program left unawaited coroutines or ignored exceptions:",
            file=sys.stderr,
        )
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        return EXIT_UNRAISABLE
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
