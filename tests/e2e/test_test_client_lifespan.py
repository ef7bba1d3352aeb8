"""End to end for SQA309: a FastAPI app whose `create_all` moves into its lifespan, with its
test clients made in conftest.py (a module-level client that a test module imports, and a
fixture returning one), migrated as a whole and incrementally (the app only: its tests are
left out of the selection), then the copy's pytest suite is run. Its tables must exist.

The project is the input of `tests/fixtures/SQA309/tests_left_out`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from migrate_cli import migrate

from tests.child_pytest import PYTEST_OPTIONS

PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "SQA309" / "tests_left_out" / "input"
GUARD_DIR = Path(__file__).parent

pytestmark = pytest.mark.slow  # a CLI run and two pytest runs apiece: 3-6 s


def _suite(project: Path, guarded: bool) -> str:
    plugins = ["-p", "sync_connection_guard"] if guarded else []
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *PYTEST_OPTIONS, *plugins,
         "-W", "error::RuntimeWarning", "tests"],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(GUARD_DIR)})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.mark.parametrize("selection", [".", "app"], ids=["whole", "app_only"])
def test_conftest_clients_find_their_tables(selection: str, tmp_path: Path) -> None:
    project = tmp_path / "tasks"
    shutil.copytree(PROJECT, project)
    (project / "pyproject.toml").write_text('[project]\nname = "tasks"\n', encoding="utf-8")
    assert "2 passed" in _suite(project, guarded=False)  # the original suite
    (project / "tasks.db").unlink()

    migrate(project, selection)
    changed = {p.relative_to(PROJECT).as_posix() for p in PROJECT.rglob("*.py")
               if p.read_bytes() != (project / p.relative_to(PROJECT)).read_bytes()}
    assert changed == {"app/main.py", "tests/conftest.py"}, changed
    assert "2 passed" in _suite(project, guarded=True)
