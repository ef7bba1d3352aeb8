"""Sync database URL → async driver URL."""

from __future__ import annotations

# dialect+driver as written → what `create_async_engine` needs. A value of None means the URL
# is already async-capable and stays as it is.
_ASYNC_DRIVERS: dict[str, str | None] = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": None,
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+pg8000": "postgresql+asyncpg",
    "postgresql+asyncpg": None,
    "postgresql+psycopg": None,
    "postgresql+psycopg_async": None,
    "mysql": "mysql+aiomysql",
    "mysql+pymysql": "mysql+aiomysql",
    "mysql+mysqldb": "mysql+aiomysql",
    "mysql+aiomysql": None,
    "mysql+asyncmy": None,
    "mariadb": "mariadb+asyncmy",
    "mariadb+pymysql": "mariadb+asyncmy",
    "mariadb+asyncmy": None,
    "mssql+pyodbc": "mssql+aioodbc",
    "mssql+aioodbc": None,
    "oracle": "oracle+oracledb_async",
    "oracle+oracledb": "oracle+oracledb_async",
    "oracle+oracledb_async": None,
}

MAPPING_HINT = ("sqlite → sqlite+aiosqlite, postgresql/psycopg2 → postgresql+asyncpg, "
                "mysql/pymysql → mysql+aiomysql, mssql+pyodbc → mssql+aioodbc")


def looks_like_url(text: str) -> bool:
    """`dialect[+driver]://…` with a dialect this table knows."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in _ASYNC_DRIVERS


def async_url(url: str) -> str | None:
    """The URL with an async driver, the URL itself if already async, None if unknown."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        return None
    key = scheme.lower()
    if key not in _ASYNC_DRIVERS:
        return None
    replacement = _ASYNC_DRIVERS[key]
    return url if replacement is None else f"{replacement}{url[len(scheme):]}"
