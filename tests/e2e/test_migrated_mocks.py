"""End to end for SQA308: the migrated tests of its fixtures, run with pytest.

Each `tests/fixtures/SQA308/<case>/expected/` tree (what the tool writes) is copied and its
tests are run with pytest-asyncio on aiosqlite, with `-W error::RuntimeWarning`. No test may
fail silently: every test that fails carries an SQA308 TODO in its body or above it (the
marker says what to change), and the tests the rule rewrote pass. Tests asking for pytest-mock's
`mocker` are skipped where pytest-mock is not installed.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.child_pytest import PYTEST_OPTIONS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "SQA308"
CASES = sorted(p.parent for p in FIXTURES.glob("*/expected") if (p / "tests").is_dir())
MARKER = "TODO(sqla-asyncify SQA308)"

pytestmark = pytest.mark.slow  # a pytest subprocess per case: 1-3 s

CONFTEST = '''\
import importlib.util

import pytest


def pytest_collection_modifyitems(items):
    if importlib.util.find_spec("pytest_mock") is None:
        for item in items:
            if "mocker" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skip(reason="pytest-mock is not installed"))
'''


def _marked_tests(tests: Path) -> set[str]:
    """Test names (`file::[Class::]name`) with an SQA308 marker in or just above them (or
    above the class of a method, whose decorators patch each test method)."""
    marked = set()
    for path in tests.rglob("test_*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for node, owner in _functions(tree):
            spans = [(_start(node, lines), node.end_lineno)]
            if owner is not None:
                spans.append((_start(owner, lines), owner.lineno))
            if any(MARKER in line for start, end in spans for line in lines[start - 1:end]):
                marked.add(f"{path.name}::{owner.name + '::' if owner else ''}{node.name}")
    return marked


def _start(node: ast.FunctionDef | ast.ClassDef, lines: list[str]) -> int:
    """The first line of a definition, its decorators and the comments right above it."""
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    while start > 1 and lines[start - 2].lstrip().startswith("#"):
        start -= 1  # comments right above the definition belong to it
    return start


def _functions(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, None
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield item, node


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_migrated_tests_fail_only_where_marked(case: Path, tmp_path: Path) -> None:
    work = tmp_path / case.name
    shutil.copytree(case / "expected", work)
    (work / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "pytest", "-q", "-rA",
         *PYTEST_OPTIONS, "-o", "asyncio_mode=strict", "tests"],
        cwd=work, capture_output=True, text=True, timeout=120)
    outcomes = {}
    for line in run.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR", "SKIPPED") and "::" in rest:
            outcomes[rest.split(" - ")[0].removeprefix("tests/")] = word
    assert outcomes, run.stdout + run.stderr
    failed = {name for name, word in outcomes.items() if word in ("FAILED", "ERROR")}
    assert failed <= _marked_tests(work / "tests"), (
        f"tests failing after migration without an SQA308 TODO: "
        f"{sorted(failed - _marked_tests(work / 'tests'))}\n{run.stdout}")
    assert "PASSED" in outcomes.values(), run.stdout
