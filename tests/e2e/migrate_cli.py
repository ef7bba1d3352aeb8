"""The end-to-end tests' way to migrate a copy: the CLI, in a subprocess, with --write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def migrate(project: Path, *paths: str) -> dict:
    """`sqla-asyncify migrate PATHS --write --format json` in `project` (default: all of
    it); its JSON report, after checking that the run and every file succeeded."""
    result = subprocess.run(
        [sys.executable, "-m", "cli", "migrate", *(paths or (".",)), "--write", "--format",
         "json"],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    failed = [f for f in report["files"] if f["error"]]
    assert not failed, failed
    return report
