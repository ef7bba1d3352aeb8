"""Before/after fixtures, discovered automatically.

Single-module cases: `tests/fixtures/<topic>/<case>.input.py` next to `<case>.expected.py`;
`<case>.noop.py` is a module the tool must leave exactly as it is.
Multi-module cases: `tests/fixtures/<topic>/<case>/input/...` next to `<case>/expected/...`.
An incremental run: `<case>/selection.txt` lists the input paths migrated (one a line, a
folder selects what is below it); the other input files are the project as context, and
stay as they are unless they call code that became async.
Cases under a `target-sync/` folder run with `--target sync`, under `strict-loading/` with
`--strict-loading`, under `python3.9/` for a project supporting Python 3.9 (others: 3.10).
Every case is checked three ways: the output equals the expected text, a second run changes
nothing (idempotence), and every output file compiles.

Each case's first run is made once per test run (`first_run`, shared by the pytest-xdist
workers): this module's test and test_plan_skips.py's run with the plan's skipping on (the
default) both assert on it.
"""

from __future__ import annotations

import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from codemods import Config, engine, passes
from codemods.engine import iter_migrate
from codemods.sources import SourceFile, discover

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: each process makes its own first runs
    fcntl = None  # type: ignore[assignment]

FIXTURES = Path(__file__).parent / "fixtures"


def _cases() -> list[pytest.param]:
    cases = []
    for pattern, suffix in (("*.input.py", ".input.py"), ("*.noop.py", ".noop.py")):
        for path in sorted(FIXTURES.rglob(pattern)):
            case_id = path.relative_to(FIXTURES).as_posix().removesuffix(suffix)
            cases.append(pytest.param(path, id=case_id))
    for folder in sorted(FIXTURES.rglob("input")):
        if folder.is_dir():
            cases.append(pytest.param(folder, id=folder.parent.relative_to(FIXTURES).as_posix()))
    return cases


def _migrate_tree(root: Path, config: Config, selection: list[str] | None = None
                  ) -> dict[str, str]:
    """Every file of the tree after the run (context files as they end up too)."""
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]

    def selected(source: SourceFile) -> bool:
        relative = Path(source.path).relative_to(root).as_posix()
        return selection is None or any(relative == s or relative.startswith(f"{s}/")
                                        for s in selection)

    chosen = [s for s in sources if selected(s)]
    context = [s for s in sources if not selected(s)]
    results = {r.path: r for r in iter_migrate(chosen, config, context)}
    for result in results.values():
        assert result.error is None, f"{result.path}:{result.error_line}: {result.error}"
    return {Path(s.path).relative_to(root).as_posix():
            results[s.path].new_source if s.path in results else s.text for s in sources}


def _selection(case: Path) -> list[str] | None:
    listed = case.parent / "selection.txt"
    if not case.is_dir() or not listed.is_file():
        return None
    return [line.strip() for line in listed.read_text().splitlines() if line.strip()]


def _expected(case: Path) -> dict[str, str]:
    if case.is_dir():
        expected_root = case.parent / "expected"
        return {p.relative_to(expected_root).as_posix(): p.read_text(encoding="utf-8")
                for p in expected_root.rglob("*.py")}
    if case.name.endswith(".noop.py"):
        name = case.name.removesuffix(".noop.py") + ".py"
        return {name: case.read_text(encoding="utf-8")}
    name = case.name.removesuffix(".input.py") + ".py"
    return {name: case.with_name(name.removesuffix(".py") + ".expected.py").read_text(
        encoding="utf-8")}


def copy_case(case: Path, work: Path) -> Path:
    """The case's input files in `work` (a case's `input` folder as it is; a single-module
    case as `<case>.py`)."""
    if case.is_dir():
        shutil.copytree(case, work)
        return work
    work.mkdir()
    for suffix in (".input.py", ".noop.py"):
        if case.name.endswith(suffix):
            (work / (case.name.removesuffix(suffix) + ".py")).write_bytes(case.read_bytes())
    return work


def outcome(root: Path, config: Config, selection: list[str] | None,
            skip: bool) -> tuple[dict, dict[str, str], int]:
    """A run over `root`: every result (path → text, findings, error, error line), every file
    of the tree after the run (context files as they end up too), and how many files the plan
    let skip the libcst local pass (`passes.SKIP_UNPLANNED` is `skip`)."""
    skipped = 0
    can_act = passes.local_pass_can_act

    def counted(ix, plan, cfg):
        nonlocal skipped
        found = can_act(ix, plan, cfg)
        skipped += not found
        return found

    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]

    def selected(source: SourceFile) -> bool:
        relative = Path(source.path).relative_to(root).as_posix()
        return selection is None or any(relative == s or relative.startswith(f"{s}/")
                                        for s in selection)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passes, "SKIP_UNPLANNED", skip)
        patch.setattr(engine, "local_pass_can_act", counted)
        results = {r.path: r for r in iter_migrate(
            [s for s in sources if selected(s)], config,
            [s for s in sources if not selected(s)])}
    found = {Path(r.path).relative_to(root).as_posix():
             (r.new_source, [(f.code, f.kind, f.line, f.message) for f in r.findings],
              r.error, r.error_line) for r in results.values()}
    tree = {Path(s.path).relative_to(root).as_posix():
            results[s.path].new_source if s.path in results else s.text for s in sources}
    return found, tree, skipped


@dataclass
class FirstRun:
    results: dict  # relative path -> (text, findings, error, error line), as `outcome` gives
    outputs: dict[str, str]  # every file of the tree after the run
    skipped: int  # files the plan let skip the local pass


class FirstRuns:
    """Each case's first run (the plan's skipping on), made once per test run: by the first
    process to take the case's lock, pickled for the other pytest-xdist workers."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._memo: dict[Path, FirstRun] = {}

    def get(self, case: Path) -> FirstRun:
        if case not in self._memo:
            self._memo[case] = self._shared(case)
        return self._memo[case]

    def _shared(self, case: Path) -> FirstRun:
        key = case.relative_to(FIXTURES).as_posix().replace("/", "__")
        stored = self.directory / f"{key}.pickle"
        if fcntl is None:  # pragma: no cover
            return self._make(case, self.directory / f"{key}.{os.getpid()}")
        fd = os.open(self.directory / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if stored.exists():
                return pickle.loads(stored.read_bytes())
            run = self._make(case, self.directory / key)
            partial = stored.with_suffix(f".{os.getpid()}.partial")
            partial.write_bytes(pickle.dumps(run))
            os.replace(partial, stored)
            return run
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    def _make(case: Path, folder: Path) -> FirstRun:
        folder.mkdir()
        root = copy_case(case, folder / "case")
        return FirstRun(*outcome(root, _config(case), _selection(case), True))


def _run(case: Path, first_runs: FirstRuns) -> tuple[dict[str, str], dict[str, str]]:
    """The case migrated (its first run); returns (outputs, expected)."""
    run = first_runs.get(case)
    for path, (_text, _findings, error, error_line) in run.results.items():
        assert error is None, f"{path}:{error_line}: {error}"
    return run.outputs, _expected(case)


def _config(case: Path) -> Config:
    """Cases under `target-sync/` run with `--target sync`, under `strict-loading/` with
    `--strict-loading`, under `python3.9/` for a project whose requires-python allows 3.9."""
    return Config(target="sync" if "target-sync" in case.parts else "async",
                  strict_loading="strict-loading" in case.parts,
                  python=(3, 9) if "python3.9" in case.parts else (3, 10))


@pytest.mark.parametrize("case", _cases())
def test_fixture(case: Path, tmp_path: Path, first_runs: FirstRuns) -> None:
    outputs, expected = _run(case, first_runs)
    assert outputs == expected

    for name, text in outputs.items():
        compile(text, name, "exec", dont_inherit=True)

    # Idempotence: migrating the output again changes nothing.
    again = tmp_path / "again"
    again.mkdir()
    for name, text in outputs.items():
        target = again / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    assert _migrate_tree(again, _config(case), _selection(case)) == outputs


def test_fixtures_exist() -> None:
    assert len(_cases()) >= 20
