"""tests/postgres.py: when there can be no server, the PostgreSQL tests say why (a skip); where
the cluster goes; the server runs."""

from __future__ import annotations

import pwd

import pytest

from tests import postgres as plugin


def test_no_binaries_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin.shutil, "which", lambda name: None)
    reason = plugin.start()
    assert isinstance(reason, str) and "binaries not found" in reason and "initdb" in reason


def test_root_without_a_postgres_user_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user(name: str) -> pwd.struct_passwd:
        raise KeyError(name)

    monkeypatch.setattr(plugin.os, "geteuid", lambda: 0)
    monkeypatch.setattr(plugin.pwd, "getpwnam", no_user)
    reason = plugin._unprivileged()
    assert isinstance(reason, str) and "refuses to run as root" in reason


def test_as_root_the_server_runs_as_the_postgres_user(monkeypatch: pytest.MonkeyPatch) -> None:
    user = pwd.struct_passwd(("postgres", "x", 101, 104, "", "/var/lib/postgresql", "/bin/sh"))
    monkeypatch.setattr(plugin.os, "geteuid", lambda: 0)
    monkeypatch.setattr(plugin.pwd, "getpwnam", lambda name: user)
    assert plugin._unprivileged() == {"user": 101, "group": 104, "extra_groups": []}


def test_the_cluster_goes_in_memory_only_when_it_has_room(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(plugin, "MEMORY_FOLDER", tmp_path)
    monkeypatch.setattr(plugin, "MEMORY_NEEDED", 1)
    assert plugin._memory_folder() == tmp_path
    monkeypatch.setattr(plugin, "MEMORY_NEEDED", 2**80)
    assert plugin._memory_folder() is None  # too little room: the disk
    monkeypatch.setattr(plugin, "MEMORY_FOLDER", tmp_path / "absent")
    assert plugin._memory_folder() is None


@pytest.mark.slow  # starts a server: ~3 s
def test_the_server_runs(postgres: plugin.PostgresServer) -> None:
    database = postgres.create_database()
    assert postgres.psql("SELECT current_database()", database).strip() == database
    assert postgres.psql("SHOW server_version_num").strip() >= "150000"
    assert postgres.env(database)["PGDATABASE"] == database
