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
from forkserver import ForkServer

from codemods import Config, migrate_source
from codemods.lint import LintConfig, lint_sources
from codemods.sources import SourceFile

HERE = Path(__file__).resolve().parent / "lint"
PROGRAMS = sorted(HERE.glob("sqa5*.py"))

pytestmark = pytest.mark.slow

# The programs run in forks of a warm interpreter (forkserver.py: a fresh `python`'s run).
SERVER = ForkServer(dict(os.environ))


@pytest.fixture(scope="module", autouse=True)
def _fork_server():
    yield
    SERVER.close()


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


# -- the migration's behaviour programs: what lint says of their migrated form --------------
MIGRATION_PROGRAMS = [p for p in sorted((HERE.parent / "programs").glob("*.py"))
                      if "# behaviour: --target sync only" not in p.read_text("utf-8")]


@pytest.fixture(scope="module")
def migrated_programs() -> dict[str, tuple[str, str]]:
    """Each program migrated (its text), and migrated without SQA400 (no loader options)."""
    found = {}
    for program in MIGRATION_PROGRAMS:
        text = program.read_text("utf-8")
        full = migrate_source(text, program.name)
        bare = migrate_source(text, program.name, Config(ignore=frozenset({"SQA400"})))
        if full.error is None and bare.error is None:
            found[program.name] = (full.new_source, bare.new_source)
    return found


def test_migrated_behaviour_programs_are_lint_clean(migrated_programs: dict) -> None:
    """They run on aiosqlite without MissingGreenlet (test_behaviour.py): every finding on
    them would be a false positive."""
    sources = [SourceFile.from_text(name, full) for name, (full, _) in migrated_programs.items()]
    found = [(r.path, f.line, f.code) for source in sources
             for r in lint_sources([source]) for f in r.findings]
    assert found == []


def test_every_missing_greenlet_without_loader_options_is_found(
        migrated_programs: dict, tmp_path: Path) -> None:
    """Each program migrated without SQA400 that then hits MissingGreenlet at run time gets
    an SQA500 finding (the seed of a removed option, on every program)."""
    hit, missed = [], []
    for name, (full, bare) in migrated_programs.items():
        if bare == full:
            continue  # SQA400 had nothing to do
        (tmp_path / name).write_text(bare, encoding="utf-8")
        run = SERVER.run(["-W", "ignore", name], tmp_path, dict(os.environ), 120)
        if "MissingGreenlet" not in run.stdout + run.stderr:
            continue
        hit.append(name)
        result = lint_sources([SourceFile.from_text(name, bare)])[0]
        if "SQA500" not in {f.code for f in result.findings}:
            missed.append(name)
    assert len(hit) >= 15 and missed == [], (hit, missed)
