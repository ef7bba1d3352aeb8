"""A few seconds of benchmarks/fuzz.py: generated and mutated programs migrate without an
internal error, compile, and a second run changes nothing (the long run is the script's)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
FUZZ = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz.py"


def _fuzz():
    spec = importlib.util.spec_from_file_location("fuzz", FUZZ)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("only", ["mutated", "generated"])
def test_a_short_fuzz_run_finds_nothing(only: str, tmp_path: Path) -> None:
    if only == "generated":
        pytest.importorskip("hypothesmith")
    stats = _fuzz().run(60.0, 1, tmp_path, (only,), max_inputs=120)  # a fixed set of inputs
    assert stats.inputs > 0
    assert (stats.internal_errors, stats.second_run_changes, stats.not_compiling) == (0, 0, 0), (
        [(tmp_path / name).read_text() for name in stats.failures[:3]])
