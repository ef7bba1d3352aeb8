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

from codemods import engine, passes
from codemods.engine import iter_migrate
from codemods.sources import SourceFile, discover
from tests.test_fixtures import FIXTURES, _cases, _config, _selection

ROOT = Path(__file__).resolve().parent.parent


def _outcome(root: Path, config, selection: list[str] | None, skip: bool,
             monkeypatch: pytest.MonkeyPatch) -> tuple[dict, int]:
    """Every result of a run over `root` (path → text, findings, error) and how many files
    the plan let skip the local pass."""
    skipped = 0
    can_act = passes.local_pass_can_act

    def counted(ix, plan, cfg):
        nonlocal skipped
        found = can_act(ix, plan, cfg)
        skipped += not found
        return found

    monkeypatch.setattr(passes, "SKIP_UNPLANNED", skip)
    monkeypatch.setattr(engine, "local_pass_can_act", counted)
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]

    def selected(source: SourceFile) -> bool:
        relative = Path(source.path).relative_to(root).as_posix()
        return selection is None or any(relative == s or relative.startswith(f"{s}/")
                                        for s in selection)

    results = iter_migrate([s for s in sources if selected(s)], config,
                           [s for s in sources if not selected(s)])
    found = {Path(r.path).relative_to(root).as_posix():
             (r.new_source, [(f.code, f.kind, f.line, f.message) for f in r.findings],
              r.error, r.error_line) for r in results}
    return found, skipped


def _copy(case: Path, work: Path) -> Path:
    if case.is_dir():  # a case's `input` folder
        shutil.copytree(case, work)
        return work
    work.mkdir()
    for suffix in (".input.py", ".noop.py"):
        if case.name.endswith(suffix):
            (work / (case.name.removesuffix(suffix) + ".py")).write_bytes(case.read_bytes())
    return work


@pytest.mark.parametrize("case", _cases())
def test_fixture_same_with_and_without_skipping(case: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fixture (input files and context), both ways: the same results. A case where
    the plan skips no file runs the same code both ways, so only the others run twice."""
    root = _copy(case, tmp_path / "case")
    assert any(root.rglob("*.py"))
    selection = _selection(case)
    with monkeypatch.context() as patch:
        fast, skipped = _outcome(root, _config(case), selection, True, patch)
    if skipped:
        with monkeypatch.context() as patch:
            full, none = _outcome(root, _config(case), selection, False, patch)
        assert none == 0
        assert fast == full


def test_some_fixture_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above sees the skip at work: a module that only looks like database
    code (a `session` parameter of a buffer class, a `.query()` of a search index)."""
    case = FIXTURES / "multimodule" / "lookalikes_skip_local_pass" / "input"
    _, skipped = _outcome(_copy(case, tmp_path / "case"), _config(case), None, True,
                          monkeypatch)
    assert skipped >= 2


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
