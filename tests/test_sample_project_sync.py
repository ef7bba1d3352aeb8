"""The bundled sample project must pass its own test suite as synchronous code."""

import os
import subprocess
import sys
from pathlib import Path

from tests.child_pytest import PYTEST_OPTIONS

SAMPLE_PROJECT = Path(__file__).resolve().parent.parent / "sample_project"


def test_sample_project_suite_passes_sync():
    _run_suite()


def test_sample_project_suite_passes_sync_on_postgresql(postgres):
    """On psycopg: the run the migrated suite's asyncpg run (tests/e2e) is held against."""
    _run_suite(postgres.url("postgresql+psycopg", postgres.create_database()))


def _run_suite(database_url: str | None = None) -> None:
    env = dict(os.environ)
    if database_url:
        env["BOOKSHOP_TEST_DATABASE_URL"] = database_url  # the sample project's tests read it
    result = subprocess.run(
        # no:benchmark: pytest-benchmark, when installed, drops an empty .benchmarks/ dir.
        [sys.executable, "-m", "pytest", "-q", *PYTEST_OPTIONS, "-p", "no:benchmark"],
        cwd=SAMPLE_PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "passed" in output
    assert "failed" not in output
