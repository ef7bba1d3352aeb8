"""A throwaway PostgreSQL cluster for the test run (a pytest plugin, loaded by conftest.py).

The session fixture ``postgres`` runs ``initdb`` into a fresh temporary folder (in memory,
under ``/dev/shm``, when that has room) and starts the server with ``pg_ctl`` on a free TCP
port of 127.0.0.1 (and a unix socket in that folder), with trust authentication and durability
switched off (a test cluster: nothing to keep). It is stopped and its folder removed when the
session ends — also when the run fails or is interrupted (``atexit``). Under pytest-xdist each
worker starts its own cluster, so no two workers share a database.

Binaries come from ``pg_config --bindir`` or, failing that, PATH. When they are absent the tests
that need the server are skipped with that reason. PostgreSQL refuses to run as root: as root
the cluster belongs to the unprivileged ``postgres`` user (the temporary folder is handed to
it); without such a user the tests are skipped, saying so. A server that is there but fails to
start is an error, shown with its log.

``PostgresServer.create_database()`` makes a new, empty database; ``env(database)`` gives the
libpq variables (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGDATABASE``) that point a bare URL such
as ``postgresql://`` or ``postgresql+asyncpg://`` at it — psycopg2, psycopg and asyncpg all read
them — so a program's URL literal can name the dialect and driver only.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USER = "postgres"  # the superuser initdb creates (and, as root, the system user to run as)
START_TIMEOUT = 60  # seconds
# A run makes ~150 databases (each ~7 MB, ~300 files, and ~4.5 MB of WAL to create): on a disk
# that is ~1.6 GB written, and removing the ~45,000 files at the end took up to a minute under
# load; in memory (tmpfs) neither costs much. Used when it has this much room, else the disk.
MEMORY_FOLDER = Path("/dev/shm")
MEMORY_NEEDED = 3 * 2**30  # bytes free


@dataclass
class PostgresServer:
    bindir: Path
    folder: Path  # data/ (the cluster), the socket and server.log
    port: int
    version: str
    run_as: dict = field(default_factory=dict)  # subprocess user=/group= when we are root
    _names: Iterator[int] = field(default_factory=itertools.count)
    _stopped: bool = False

    host = "127.0.0.1"

    def url(self, drivername: str = "postgresql+psycopg", database: str = "postgres") -> str:
        return f"{drivername}://{USER}@{self.host}:{self.port}/{database}"

    def env(self, database: str) -> dict[str, str]:
        """libpq's variables naming this server and `database` (for bare URLs)."""
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": USER,
                "PGDATABASE": database}

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database; its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", self.host, "-p", str(self.port), "-U", USER, "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=60, env=_clean_env())
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {result.stderr}")
        return result.stdout

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            _run([self.bindir / "pg_ctl", "stop", "-D", self.folder / "data", "-m", "immediate",
                  "-w", "-s"], self.run_as, check=False)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _clean_env() -> dict[str, str]:
    """The environment without libpq variables that would redirect our own commands."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _run(args: list, run_as: dict, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            timeout=START_TIMEOUT, env=_clean_env(), **run_as)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")
    return result


def find_bindir() -> Path | str:
    """The folder holding initdb, pg_ctl, postgres and psql, or why there is none."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    needed = ("initdb", "pg_ctl", "postgres", "psql")
    for folder in candidates:
        if all((folder / name).is_file() for name in needed):
            return folder
    return ("PostgreSQL server binaries not found (initdb, pg_ctl, postgres, psql: neither in "
            f"`pg_config --bindir` nor beside initdb on PATH; looked in {candidates or 'none'})")


def _unprivileged() -> dict | str:
    """subprocess arguments that run a command as the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam(USER)
    except KeyError:
        return (f"running as root, and PostgreSQL refuses to run as root; no {USER!r} user "
                "exists to run the test cluster as")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _memory_folder() -> Path | None:
    """/dev/shm when it is a writable folder with MEMORY_NEEDED free, else None (the disk)."""
    try:
        stat = os.statvfs(MEMORY_FOLDER)
    except OSError:
        return None
    room = stat.f_bavail * stat.f_frsize >= MEMORY_NEEDED
    return MEMORY_FOLDER if room and os.access(MEMORY_FOLDER, os.W_OK) else None


def start() -> PostgresServer | str:
    """Start a throwaway cluster; the server, or the reason there can be none."""
    bindir = find_bindir()
    if isinstance(bindir, str):
        return bindir
    run_as = _unprivileged()
    if isinstance(run_as, str):
        return run_as
    folder = Path(tempfile.mkdtemp(prefix="sqla-asyncify-pg-", dir=_memory_folder()))
    if run_as:
        os.chown(folder, run_as["user"], run_as["group"])
    version = _run([bindir / "postgres", "--version"], {}).stdout.strip()
    server = PostgresServer(bindir, folder, 0, version, run_as)
    try:
        _run([bindir / "initdb", "-D", folder / "data", "-U", USER, "--auth=trust",
              "-E", "UTF8", "--locale=C", "--no-sync"], run_as)
        for _attempt in range(3):  # a free port can be taken before the server binds it
            server.port = _free_port()
            options = (f"-c listen_addresses={server.host} -c port={server.port} "
                       f"-c unix_socket_directories={folder} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off "
                       "-c max_connections=50 -c shared_buffers=32MB "
                       # checkpoints recycle the WAL every 64 MB (the default lets ~1 GB pile up)
                       "-c min_wal_size=32MB -c max_wal_size=64MB")
            started = _run([bindir / "pg_ctl", "start", "-D", folder / "data", "-w", "-s",
                            "-t", START_TIMEOUT, "-l", folder / "server.log", "-o", options],
                           run_as, check=False)
            if started.returncode == 0:
                return server
        log = (folder / "server.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n{log}")
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running throwaway PostgreSQL server for this process (skips when there is none)."""
    server = start()
    if isinstance(server, str):
        pytest.skip(server)
    atexit.register(server.stop)  # Ctrl-C, or a run that never reaches the teardown
    try:
        yield server
    finally:
        server.stop()

