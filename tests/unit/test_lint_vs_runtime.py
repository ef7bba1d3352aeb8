"""`benchmarks/corpus/lint_vs_runtime.py`: its pytest plugin records a MissingGreenlet at the
read with the attribute being loaded, and the matching tells found from missed and a finding
that ran from one that never did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.child_pytest import PYTEST_OPTIONS

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus"

# a lazy relationship read after an async query that does not load it, caught by the code
PROGRAM = '''\
import asyncio

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Crate(Base):
    __tablename__ = "crate"
    id: Mapped[int] = mapped_column(primary_key=True)
    bottles: Mapped[list["Bottle"]] = relationship()


class Bottle(Base):
    __tablename__ = "bottle"
    id: Mapped[int] = mapped_column(primary_key=True)
    crate_id: Mapped[int] = mapped_column(ForeignKey("crate.id"))


async def count() -> int:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with async_sessionmaker(engine)() as session:
        session.add(Crate(id=1))
        await session.commit()
        crate = (await session.scalars(select(Crate))).one()
        try:
            found = len(crate.bottles)
        except Exception:
            found = -1
    await engine.dispose()
    return found


def unused() -> int:
    return 0


def test_count():
    assert asyncio.run(count()) == -1
'''


@pytest.fixture(scope="module")
def lvr():  # noqa: ANN201 - a script, not a package
    sys.path.insert(0, str(CORPUS))
    try:
        import lint_vs_runtime
    finally:
        sys.path.remove(str(CORPUS))
    return lint_vs_runtime


@pytest.mark.slow
def test_capture_and_match(lvr, tmp_path: Path) -> None:
    pytest.importorskip("aiosqlite")
    root = tmp_path / "copy"
    root.mkdir()
    (root / "test_crates.py").write_text(PROGRAM, encoding="utf-8")
    out, trace = tmp_path / "runtime.jsonl", tmp_path / "trace.json"
    trace.write_text(json.dumps(["test_crates.py"]))
    env = {**os.environ, "PYTHONPATH": str(CORPUS), "LVR_ROOT": str(root),
           "LVR_OUT": str(out), "LVR_TRACE": str(trace)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", *PYTEST_OPTIONS,
                           "-p", "lint_capture", "test_crates.py"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    errors, ran = lvr.read_records(out)
    sites, unlocated = lvr.sites_of(errors, root)
    assert unlocated == 0 and len(sites) == 1
    site = sites[0]
    assert (site.kind, site.path, site.line) == ("MissingGreenlet", "test_crates.py", 33)
    assert site.loading == "Crate.bottles (lazy)"
    assert site.tests == {"test_crates.py::test_count"}

    def finding(line: int, code: str, message: str = "") -> dict:
        return {"path": "test_crates.py", "line": line, "code": code, "message": message}

    outcome = lvr.Outcome("crates", sites=sites, findings=[
        finding(31, "SQA500", "Crate.bottles is read after this query"),
        finding(41, "SQA504"), finding(36, "SQA502")])
    lvr.match(outcome, lvr.Spans(root), ran)
    assert site.found_by == "SQA500 at test_crates.py:31 (names it)"
    assert [f["status"] for f in outcome.findings] == ["matched", "not run", "ran clean"]
    counts = outcome.counts()
    assert (counts["errors"], counts["found"], counts["missed"]) == (1, 1, 0)


def test_statement_spans(lvr, tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("def f(x):\n    return [\n        x.a,\n    ]\n\n\nfor y in (\n    1,\n):\n"
                    "    pass\n", encoding="utf-8")
    spans = lvr.Spans(tmp_path)
    assert spans.of("m.py", 3) == (2, 4)  # the innermost statement around the line
    assert spans.of("m.py", 8) == (7, 9)  # a compound statement: its header
    assert spans.of("m.py", 5) == (5, 5)
