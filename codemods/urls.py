"""Sync database URL → async driver URL."""

from __future__ import annotations

import re

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


def async_drivername(drivername: str) -> str | None:
    """`URL.create(drivername, ...)`'s dialect+driver for an async engine (None: leave it)."""
    return _ASYNC_DRIVERS.get(drivername.lower()) if isinstance(drivername, str) else None


# What asyncpg's connect() takes of libpq's URL parameters (checked on a PostgreSQL 15 server
# with asyncpg 0.32 through SQLAlchemy's `postgresql+asyncpg` dialect, which passes the query
# string on as keyword arguments). `sslmode=<mode>` is `ssl=<mode>` there, with the same mode
# names (disable, allow, prefer, require, verify-ca, verify-full).
ASYNCPG = "postgresql+asyncpg"
_ASYNCPG_RENAMED = {"sslmode": "ssl"}
# libpq parameters asyncpg rejects ("connect() got an unexpected keyword argument"), and
# where their value goes instead
_ASYNCPG_ELSEWHERE = {
    "connect_timeout": 'connect_args={"timeout": <seconds as a number>}',
    "application_name": 'connect_args={"server_settings": {"application_name": ...}}',
    "fallback_application_name": 'connect_args={"server_settings": {"application_name": ...}}',
    "options": 'connect_args={"server_settings": {...}}, one entry per `-c name=value`',
    "client_encoding": 'connect_args={"server_settings": {"client_encoding": ...}}',
    "sslrootcert": 'connect_args={"ssl": <an ssl.SSLContext loading these files>}',
    "sslcert": 'connect_args={"ssl": <an ssl.SSLContext loading these files>}',
    "sslkey": 'connect_args={"ssl": <an ssl.SSLContext loading these files>}',
    "sslcrl": 'connect_args={"ssl": <an ssl.SSLContext loading these files>}',
    "sslpassword": 'connect_args={"ssl": <an ssl.SSLContext loading these files>}',
}
_LIBPQ_ONLY = frozenset({
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
    "tcp_user_timeout", "gssencmode", "gsslib", "krbsrvname", "requirepeer", "require_auth",
    "channel_binding", "sslcompression", "sslsni", "ssl_min_protocol_version",
    "ssl_max_protocol_version", "hostaddr", "service", "replication", "load_balance_hosts",
    "sslcertmode",
})
_QUERY_KEY = re.compile(r"(?:^|(?<=&))([A-Za-z_]+)(?==)")


def asyncpg_query(text: str, in_query: bool = False) -> tuple[str, list[str], bool]:
    """A URL moving to asyncpg, or a piece of one (`in_query`: the piece starts inside the
    query string): libpq's `sslmode=` → asyncpg's `ssl=`; one line per parameter asyncpg
    rejects, saying where it goes instead; and whether the text ends inside the query."""
    rejected: list[str] = []

    def rename(match: re.Match) -> str:
        key = match.group(1)
        if key in _ASYNCPG_ELSEWHERE:
            rejected.append(f"`{key}` (asyncpg takes it as {_ASYNCPG_ELSEWHERE[key]})")
        elif key in _LIBPQ_ONLY:
            rejected.append(f"`{key}` (a libpq setting asyncpg has no equivalent for)")
        return _ASYNCPG_RENAMED.get(key, key)

    head, sep, query = ("", "", text) if in_query else text.partition("?")
    if not (in_query or sep):
        return text, rejected, False
    return head + sep + _QUERY_KEY.sub(rename, query), rejected, True
