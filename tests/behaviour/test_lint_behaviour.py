"""Behaviour of the lint rules: each program in `lint/` runs a `broken_*` function (what a
rule reports) and a `fixed_*` one (its suggested fix) on aiosqlite, and prints the outcome,
which must be the recorded `.out` (the failure at run time, then the fix working). Lint must
report the rule in every broken function and nothing in the fixed ones."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.lint import LintConfig, lint_sources
from codemods.sources import SourceFile

HERE = Path(__file__).resolve().parent / "lint"
PROGRAMS = sorted(HERE.glob("sqa5*.py"))

pytestmark = pytest.mark.slow


def _functions(text: str) -> list[tuple[int, int, str]]:
    return [(node.lineno, node.end_lineno or node.lineno, node.name)
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)]


@pytest.fixture(scope="module")
def findings() -> dict[str, list]:
    sources = [SourceFile.read(p) for p in sorted(HERE.glob("*.py"))]
    results = lint_sources(sources, LintConfig(strict=True))
    return {Path(r.path).name: r.findings for r in results}


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_prints_the_failure_and_the_fix(program: Path) -> None:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("PYTHONWARNINGS", None)
    run = subprocess.run([sys.executable, "-W", "ignore", program.name], cwd=HERE, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == program.with_suffix(".out").read_text(encoding="utf-8")


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_lint_reports_the_broken_functions_only(program: Path, findings: dict) -> None:
    code = program.stem[:6].upper()
    text = program.read_text(encoding="utf-8")
    broken = {name for _, _, name in _functions(text) if name.startswith("broken")}
    where = {}
    for finding in findings[program.name]:
        function = next((name for start, end, name in _functions(text)
                         if start <= finding.line <= end and name.startswith(("broken",
                                                                               "fixed"))),
                        None)
        assert function in broken, finding
        where.setdefault(function, set()).add(finding.code)
    if code == "SQA505":  # the models' relationships are what it reports
        assert {f.code for f in findings["shop.py"]} == {"SQA505"}
        return
    assert all(code in where.get(name, set()) for name in broken), where
