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
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codemods import Config
from codemods.engine import iter_migrate
from codemods.sources import SourceFile, discover

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


def _run(case: Path, tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Migrate the case in a temporary folder; returns (outputs, expected)."""
    work = tmp_path / "case"
    if case.is_dir():
        shutil.copytree(case, work)
        expected_root = case.parent / "expected"
        expected = {p.relative_to(expected_root).as_posix(): p.read_text(encoding="utf-8")
                    for p in expected_root.rglob("*.py")}
    elif case.name.endswith(".noop.py"):
        work.mkdir()
        name = case.name.removesuffix(".noop.py") + ".py"
        (work / name).write_bytes(case.read_bytes())
        expected = {name: case.read_text(encoding="utf-8")}
    else:
        work.mkdir()
        name = case.name.removesuffix(".input.py") + ".py"
        (work / name).write_bytes(case.read_bytes())
        expected = {name: case.with_name(name.removesuffix(".py") + ".expected.py").read_text(
            encoding="utf-8")}
    return _migrate_tree(work, _config(case), _selection(case)), expected


def _config(case: Path) -> Config:
    """Cases under `target-sync/` run with `--target sync`, under `strict-loading/` with
    `--strict-loading`, under `python3.9/` for a project whose requires-python allows 3.9."""
    return Config(target="sync" if "target-sync" in case.parts else "async",
                  strict_loading="strict-loading" in case.parts,
                  python=(3, 9) if "python3.9" in case.parts else (3, 10))


@pytest.mark.parametrize("case", _cases())
def test_fixture(case: Path, tmp_path: Path) -> None:
    outputs, expected = _run(case, tmp_path)
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
