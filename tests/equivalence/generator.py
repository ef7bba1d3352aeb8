"""Build one legacy program holding every case, and run a program to collect its results.

The program is ``MODELS_SRC`` + one ``def case_<name>(session):`` per case + a ``main()`` that,
for each case, seeds its data set in one session and calls the case in a fresh session, with
the call written out literally (``value = shown(case_x(session))``) so that after migration the
call is awaited like any other call of a function that became ``async def``.

``main()`` prints one line: ``EQUIVALENCE-RESULTS <json>`` mapping each case name to
``{"result": ..., "sql": [[verb, has_limit], ...], "drivers": [is_async, ...],
"detail": <exception message>}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .cases import Case
from .models_src import MODELS_SRC

MARKER = "EQUIVALENCE-RESULTS "


@dataclass
class Program:
    source: str
    spans: dict[str, tuple[int, int]]  # case name -> (first, last) line of its def


def build_program(cases: Iterable[Case], url: str = "sqlite://") -> Program:
    cases = list(cases)
    lines = MODELS_SRC.rstrip("\n").split("\n") + ["", ""]
    spans: dict[str, tuple[int, int]] = {}
    for case in cases:
        first = len(lines) + 1
        lines.append(f"def {case.function}(session):")
        lines += textwrap.indent(case.body, "    ").split("\n")
        spans[case.name] = (first, len(lines))
        lines += ["", ""]

    lines += [
        "def main():",
        f"    engine = create_engine({url!r})",
        "    Base.metadata.create_all(engine)",
        "    results = {}",
    ]
    for case in cases:
        lines += [
            f"    # {case.name}",
            "    with Session(engine) as session:",
            f"        seed_{case.data}(session)",
            "    with Session(engine) as session:",
            "        del CAPTURED[:]",
            "        detail = None",
            "        try:",
            f"            value = shown({case.function}(session))",
            "        except Exception as exc:",
            "            value = type(exc).__name__",
            "            detail = str(exc).split(chr(10))[0][:200]",
            "        statements, drivers = sql_summary(CAPTURED)",
            f"        results[{case.name!r}] = {{'result': value, 'sql': statements,",
            "                                   'drivers': drivers, 'detail': detail}",
        ]
    lines += [
        "    engine.dispose()",
        f"    print({MARKER!r} + json.dumps(results, sort_keys=True))",
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
        "",
    ]
    return Program("\n".join(lines), spans)


@dataclass
class Run:
    results: dict[str, dict] | None
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Migrated:
    """A migrated program and its run (pickled between pytest-xdist workers: plain values)."""

    target: str
    result: object  # codemods.FileResult
    run: Run | None
    functions: dict[str, str]  # top-level function name -> its migrated source text
    async_functions: frozenset[str]  # top-level functions holding an async construct
    module_is_async: bool  # any async construct anywhere in the migrated program

    @property
    def main_is_async(self) -> bool:
        return "main" in self.async_functions


def run_program(source: str, workdir: Path, name: str, timeout: float = 120,
                env: dict[str, str] | None = None) -> Run:
    """Run ``source`` as ``workdir/name`` in a fresh interpreter (``env`` added to the
    environment); parse its results line."""
    path = workdir / name
    path.write_text(source, encoding="utf-8")
    env = dict(os.environ, PYTHONIOENCODING="utf-8", **(env or {}))
    env.pop("PYTHONWARNINGS", None)
    try:
        proc = subprocess.run(
            [sys.executable, "-W", "ignore::DeprecationWarning", str(path)],
            cwd=workdir, env=env, capture_output=True, text=True, encoding="utf-8",
            timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return Run(None, -1, str(exc.stdout or ""), f"timed out after {timeout} s")
    results = None
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            results = json.loads(line[len(MARKER):])
    return Run(results, proc.returncode, proc.stdout, proc.stderr)
