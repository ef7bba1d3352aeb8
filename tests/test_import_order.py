"""Added imports are placed and sorted as isort / ruff's `I` rules would: every fixture whose
input passes `ruff check --select I` has an expected output that passes it too (and the
tool's own output is what the fixture test compares with that expected text)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods import migrate_source

FIXTURES = Path(__file__).parent / "fixtures"


def _ruff() -> list[str]:
    if shutil.which("ruff") is None:
        pytest.importorskip("ruff")
    return [sys.executable, "-m", "ruff"] if shutil.which("ruff") is None else ["ruff"]


def _unsorted(folder: Path, texts: dict[str, str]) -> set[str]:
    """The names of the files among `texts` that `ruff check --select I` flags."""
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    found = subprocess.run([*_ruff(), "check", "--isolated", "--select", "I",
                            "--target-version", "py311", "--output-format", "concise", "."],
                           cwd=folder, capture_output=True, text=True)
    return {line.split(":", 1)[0].removeprefix("./") for line in found.stdout.splitlines()
            if ".py:" in line}


def test_outputs_are_import_sorted_where_inputs_were(tmp_path: Path) -> None:
    cases = {path.relative_to(FIXTURES).as_posix().replace("/", "__"): path
             for path in sorted(FIXTURES.rglob("*.input.py"))}
    inputs = {name: path.read_text(encoding="utf-8") for name, path in cases.items()}
    sorted_inputs = set(inputs) - _unsorted(tmp_path / "in", inputs)
    assert len(sorted_inputs) > 100
    outputs = {name: cases[name].with_name(name.rsplit("__", 1)[1].replace(
        ".input.py", ".expected.py")).read_text(encoding="utf-8") for name in sorted_inputs
        if cases[name].with_name(cases[name].name.replace(".input.py", ".expected.py")).exists()}
    assert sorted(_unsorted(tmp_path / "out", outputs)) == []


@pytest.mark.parametrize(("before", "after"), [
    # a new standard-library group above the third-party one, after a docstring
    ('"""Doc."""\n\nfrom sqlalchemy.orm import Session\n\n\ndef main():\n'
     '    with Session(engine) as s:\n        s.commit()\n\n\nif __name__ == "__main__":\n'
     '    main()\n',
     '"""Doc."""\n\nimport asyncio\n\nfrom sqlalchemy.ext.asyncio import AsyncSession\n'),
    # sqlalchemy.ext.asyncio sorted between sqlalchemy and sqlalchemy.orm
    ("import os\n\nfrom sqlalchemy import create_engine\nfrom sqlalchemy.orm import "
     "sessionmaker\n\nfrom . import models\n\nengine = create_engine(os.environ['URL'])\n"
     "Maker = sessionmaker(engine)\n",
     "import os\n\nfrom sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine"
     "\n\nfrom . import models\n"),
])
def test_added_imports_go_where_isort_puts_them(before: str, after: str) -> None:
    result = migrate_source(before, "app.py")
    assert result.error is None
    assert result.new_source.startswith(after), result.new_source
