"""The files the plan lets skip the libcst local pass come out of the run exactly as the full
pass leaves them (text, findings, errors), on every fixture, the sample project and a
generated tree: `passes.SKIP_UNPLANNED` off is the full pass over every file whose bytes may
need work."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from tests.test_fixtures import (
    FIXTURES,
    FirstRuns,
    _cases,
    _config,
    _selection,
    copy_case,
    outcome,
)

ROOT = Path(__file__).resolve().parent.parent


def _outcome(root: Path, config, selection: list[str] | None, skip: bool,
             monkeypatch: pytest.MonkeyPatch) -> tuple[dict, int]:
    """Every result of a run over `root` (path → text, findings, error) and how many files
    the plan let skip the local pass."""
    found, _tree, skipped = outcome(root, config, selection, skip)
    return found, skipped


def _copy(case: Path, work: Path) -> Path:
    return copy_case(case, work)


@pytest.mark.parametrize("case", _cases())
def test_fixture_same_with_and_without_skipping(case: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                first_runs: FirstRuns) -> None:
    """Every fixture (input files and context), both ways: the same results. A case where
    the plan skips no file runs the same code both ways, so only the others run twice. With
    skipping on, the run is the case's first run (test_fixtures.py asserts on it too)."""
    root = _copy(case, tmp_path / "case")
    assert any(root.rglob("*.py"))
    selection = _selection(case)
    first = first_runs.get(case)
    fast, skipped = first.results, first.skipped
    if skipped:
        with monkeypatch.context() as patch:
            full, none = _outcome(root, _config(case), selection, False, patch)
        assert none == 0
        assert fast == full


def test_some_fixture_is_skipped(first_runs: FirstRuns) -> None:
    """The comparison above sees the skip at work: a module that only looks like database
    code (a `session` parameter of a buffer class, a `.query()` of a search index)."""
    case = FIXTURES / "multimodule" / "lookalikes_skip_local_pass" / "input"
    assert _selection(case) is None  # the whole case, as migrated here before
    assert first_runs.get(case).skipped >= 2


@pytest.mark.slow
@pytest.mark.parametrize("target", ["async", "sync"])
def test_generated_tree_and_sample_project_same(tmp_path: Path, target: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("run_benchmark",
                                                  ROOT / "benchmarks" / "run_benchmark.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("run_benchmark", bench)
    spec.loader.exec_module(bench)
    tree = tmp_path / "synth"
    # 36 modules: the smallest tree (this seed, 8 packages) whose generation takes every path
    # through the generator that the 160-module tree of before took (a line tracer's arcs
    # over benchmarks/run_benchmark.py), and two more; the plan lets 33 of them skip.
    bench.generate_project(tree, modules=36, sqla_fraction=0.33, seed=3, packages=8)
    sample = tmp_path / "sample"
    shutil.copytree(ROOT / "sample_project", sample)
    config = _config(Path("target-sync" if target == "sync" else "."))
    for root, minimum in ((tree, 20), (sample, 0)):
        with monkeypatch.context() as patch:
            full, _ = _outcome(root, config, None, False, patch)
        with monkeypatch.context() as patch:
            fast, skipped = _outcome(root, config, None, True, patch)
        assert fast == full
        assert skipped >= minimum


def test_deeply_chained_module_does_not_fail_the_run() -> None:
    """Deciding whether the local pass can act analyses the module's names as the pass
    would: where that reaches the recursion limit (a long alias chain, met in aiida-core) it
    retries in a deep thread like the pass, instead of failing the whole run."""
    from codemods import migrate_source

    lines = ["# no session here", "x0 = object()",
             *(f"x{i} = x{i - 1}" for i in range(1, 1500)), "", "def f():",
             "    return x1499.query()", ""]
    result = migrate_source("\n".join(lines), "deep.py")
    assert result.error is None and not result.changed
