"""pytest plugin for the end-to-end runs: fail if the migrated suite opens a sync connection.

Loaded with `-p sync_connection_guard` (this folder on PYTHONPATH): every DBAPI connection a
pool opens is checked; a plain sqlite3 connection means some code still runs synchronously.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

_sync_connections: list[str] = []


@event.listens_for(Pool, "connect")
def _check(dbapi_connection, connection_record) -> None:  # noqa: ANN001 - SQLAlchemy's hook
    kind = type(dbapi_connection)
    if "aiosqlite" not in kind.__module__ and "asyncio" not in kind.__module__:
        _sync_connections.append(f"{kind.__module__}.{kind.__qualname__}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _sync_connections:
        print(f"\nsync DBAPI connections opened: {sorted(set(_sync_connections))}")
        session.exitstatus = 3
