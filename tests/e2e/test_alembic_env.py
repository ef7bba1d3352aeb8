"""End to end: Alembic's env.py reads the application's database URL, which the migration
moves to an async driver for the application's engine; `alembic upgrade head` (synchronous)
must still run after the migration, offline (`--sql`) and online."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from migrate_cli import migrate

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "fixtures" / "multimodule" / "alembic_env_app_url" / "input"

# Runs Alembic four times and the tool once, in subprocesses: about 5 s.
pytestmark = pytest.mark.slow


def _alembic(project: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "alembic", *args], cwd=project, capture_output=True, text=True,
        timeout=120, env={**os.environ, "PYTHONPATH": str(project)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _upgrades(project: Path) -> str:
    (project / "app.db").unlink(missing_ok=True)
    _alembic(project, "upgrade", "head")
    tables = subprocess.run(
        [sys.executable, "-c", "import sqlite3; print(sqlite3.connect('app.db').execute("
         "\"select name from sqlite_master where name='items'\").fetchall())"],
        cwd=project, capture_output=True, text=True, check=True).stdout
    return tables + _alembic(project, "upgrade", "head", "--sql")


def test_alembic_still_upgrades_after_the_app_moved_to_an_async_driver(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    before = _upgrades(project)
    assert "[('items',)]" in before and "CREATE TABLE items" in before

    report = migrate(project)
    assert "sqlite+aiosqlite" in (project / "app" / "settings.py").read_text()
    assert any(c["code"] == "SQA012" for f in report["files"] for c in f["changes"])

    assert _upgrades(project) == before
