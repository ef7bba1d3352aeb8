"""The bundled sample project must pass its own test suite as synchronous code."""

import subprocess
import sys
from pathlib import Path

SAMPLE_PROJECT = Path(__file__).resolve().parent.parent / "sample_project"


def test_sample_project_suite_passes_sync():
    result = subprocess.run(
        # no:benchmark: pytest-benchmark, when installed, drops an empty .benchmarks/ dir.
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark"],
        cwd=SAMPLE_PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "passed" in output
    assert "failed" not in output
