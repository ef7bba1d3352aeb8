"""pytest plugin for the end-to-end runs: fail if the migrated suite opens a sync connection.

Loaded with `-p sync_connection_guard` (this folder on PYTHONPATH): every DBAPI connection a
pool opens is checked; one that is not SQLAlchemy's asyncio adapter (aiosqlite's, asyncpg's,
...) — a plain sqlite3 or psycopg connection — means some code still runs synchronously.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.pool import Pool

_sync_connections: list[str] = []


@event.listens_for(Pool, "connect")
def _check(dbapi_connection, connection_record) -> None:  # noqa: ANN001 - SQLAlchemy's hook
    if not isinstance(dbapi_connection, AsyncAdapt_dbapi_connection):
        kind = type(dbapi_connection)
        _sync_connections.append(f"{kind.__module__}.{kind.__qualname__}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _sync_connections:
        print(f"\nsync DBAPI connections opened: {sorted(set(_sync_connections))}")
        session.exitstatus = 3
