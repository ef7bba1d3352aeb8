"""Per-file reuse gives what a run without any cache gives: every multi-file fixture is run
once with a cache folder, then each of its files is changed in turn — to the text the
migration makes of it (sessions made async, queries rewritten: decisions change in the
files around it), and to its text without its first or its last top-level function or
class — and the run with the earlier runs' traces must equal a run without a cache
(texts, findings, errors), file by file."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.test_fixtures import _cases, _config, _selection, copy_case, outcome

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from rerun import without_a_definition  # noqa: E402  (benchmarks/: standard library only)

CASES = [case for case in _cases() if case.values[0].is_dir()]


def _changes(root: Path, expected: Path) -> list[tuple[Path, str]]:
    """(file, new text) for each file of the tree, one change at a time."""
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        migrated = expected / path.relative_to(root)
        if migrated.is_file() and migrated.read_text() != text:
            found.append((path, migrated.read_text()))
        for which in (0, -1):
            shorter = without_a_definition(text, which)
            if shorter is not None and (path, shorter) not in found:
                found.append((path, shorter))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_reused_results_equal_a_run_without_cache(case: Path, tmp_path: Path) -> None:
    root = copy_case(case, tmp_path / "case")
    config, selection = _config(case), _selection(case)
    cached = replace(config, cache_dir=str(tmp_path / "cache"))
    outcome(root, cached, selection, True)
    for path, text in _changes(root, case.parent / "expected"):
        before = path.read_text()
        path.write_text(text)
        with_reuse = outcome(root, cached, selection, True)[0]
        assert with_reuse == outcome(root, config, selection, True)[0], (
            f"{path.relative_to(root)} changed")
        path.write_text(before)
