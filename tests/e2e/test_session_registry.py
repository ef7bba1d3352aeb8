"""End to end: a project whose tests hand their session to a class-level registry read by
class properties (`User.set_session(sess)`, `User.query`) keeps passing its suite after an
async migration: the modules building and using that session stay synchronous, and the run
says why."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from migrate_cli import migrate

from tests.child_pytest import PYTEST_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "fixtures" / "multimodule" / "session_registry_stays_sync" / "input"

# Runs the tool and the project's suite twice in subprocesses: about 4 s.
pytestmark = pytest.mark.slow


def _suite(project: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *PYTEST_OPTIONS, "-W",
         "error::RuntimeWarning", "pkg"],
        cwd=project, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output.strip().splitlines()[-1]


def test_registry_sessions_stay_sync_and_the_suite_still_passes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    before = _suite(project)

    report = migrate(project)
    assert any("stay synchronous" in note and "pkg/test_users.py" in note
               for note in report["notes"]), report["notes"]
    assert "async def archived_names" in (project / "pkg" / "archive.py").read_text()

    assert _suite(project) == before
