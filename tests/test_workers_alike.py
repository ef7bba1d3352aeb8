"""Worker processes give what one process gives: every multi-file fixture, run with two
workers (forced for these small trees), has the same texts, findings and errors as the run in
this process. The workers share the plan by forking, but the files they take for the
colouring round only reach them through a pipe, as copies."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from codemods import workers
from tests.test_fixtures import _cases, _config, _selection, copy_case, outcome

CASES = [case for case in _cases() if case.values[0].is_dir()]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_two_workers_equal_one_process(case: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    config, selection = _config(case), _selection(case)
    here = outcome(copy_case(case, tmp_path / "here"), replace(config, jobs=1), selection,
                   True)[0]
    monkeypatch.setattr(workers, "MIN_FILES_PER_WORKER", 1)
    forked = outcome(copy_case(case, tmp_path / "forked"), replace(config, jobs=2),
                     selection, True)[0]
    assert forked == here
