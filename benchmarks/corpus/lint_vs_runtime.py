#!/usr/bin/env python3
"""Does `sqla-asyncify lint` find the MissingGreenlets the corpus' migrated suites hit?

For each corpus project with a runnable suite, the async migration of a copy (as
`run_corpus.py` makes it) is linted (`python -m cli lint --format json`) and its suite run
with the `lint_capture` pytest plugin, which records every MissingGreenlet /
DetachedInstanceError / `lazy='raise'` error when it is created (with the copy's frames on
the stack and the attribute being loaded) and which lines of the linted files ran. Then:

* a runtime error is **found** when a lint finding sits on the statement of one of its
  frames (the read itself, or a caller's line on the stack), or an SQA500 finding names the
  attribute it was loading (`Class.attr`: SQA500 reports at the query that should load it);
  else **missed**. Tests failing on a coroutine used as a value (`'coroutine' object has
  no attribute ...`: an async function called without await) are matched the same way
  (by the frames of their traceback) and counted apart. Errors with no frame in the copy
  (a connection finalized by the garbage collector) are counted apart as `no frame`;
* a lint finding no runtime error matched is **ran clean** (its statement ran and raised
  nothing: a false positive, or a read the suite's data never reaches — see the README's
  notes) or **not run** (the suite never executed it).

Standard library only (the plugin runs in the project's venv). The sources are never changed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import run_corpus as rc

HERE = Path(__file__).resolve().parent
PROJECTS = ("ihatemoney", "fastapi_recipes", "pyramid_wiki", "cosmicpython", "py_rest_demo",
            "sqlalchemy_mixins", "fastapi_jobboard", "dundie", "continuum")
# The async migration needs SQLAlchemy 2.0; cosmicpython's own venv pins 1.4 (manifest).
ASYNC_VENVS = {"cosmicpython": rc.VENVS / "cosmicpython2"}
EXIT_GRACE = 30  # seconds a suite may take to exit after its summary line


@dataclass
class Site:
    """One place a runtime error happened (deduplicated over the tests hitting it)."""

    kind: str
    path: str  # the innermost frame of the copy (where the attribute was read)
    line: int
    text: str
    loading: str  # "Class.attr (lazy)" when an ORM loader was on the stack
    message: str
    frames: list[tuple[str, int]]
    tests: set[str] = field(default_factory=set)
    hits: int = 0
    found_by: str = ""  # "SQA500 at path:line (read|caller|names it)"


@dataclass
class Outcome:
    name: str
    error: str = ""
    tests: str = ""
    seconds: float = 0.0
    sites: list[Site] = field(default_factory=list)
    unlocated: int = 0  # errors with no frame of the copy
    findings: list[dict] = field(default_factory=list)  # each with "status"

    def counts(self) -> dict[str, int]:
        status = Counter(f["status"] for f in self.findings)
        io = [s for s in self.sites if not s.kind.startswith("coroutine")]
        coroutine = [s for s in self.sites if s.kind.startswith("coroutine")]
        return {"errors": len(io), "found": sum(bool(s.found_by) for s in io),
                "missed": sum(not s.found_by for s in io), "no_frame": self.unlocated,
                "coroutine": len(coroutine),
                "coroutine_found": sum(bool(s.found_by) for s in coroutine),
                "findings": len(self.findings), "matched": status["matched"],
                "ran_clean": status["ran clean"], "not_run": status["not run"]}


def statement_spans(path: Path) -> list[tuple[int, int]]:
    """(first, last) line of each simple statement, and of each compound statement's header."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="surrogateescape"))
    except (SyntaxError, ValueError, OSError):
        return []
    spans = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            spans.append((first, max(body[0].lineno - 1, node.lineno)))
        else:
            spans.append((node.lineno, node.end_lineno or node.lineno))
    return spans


class Spans:
    def __init__(self, root: Path) -> None:
        self.root, self.cache = root, {}

    def of(self, path: str, line: int) -> tuple[int, int]:
        """The innermost statement (or compound header) spanning `line`."""
        if path not in self.cache:
            self.cache[path] = statement_spans(self.root / path)
        around = [s for s in self.cache[path] if s[0] <= line <= s[1]]
        return min(around, key=lambda s: s[1] - s[0]) if around else (line, line)


def run_lint(repo: Path, root: Path, subpath: str, timeout: float) -> tuple[list[dict], str]:
    command = [sys.executable, "-m", "cli", "lint", subpath or ".", "--format", "json",
               "--no-cache", "--jobs", "1", "--project-root", "."]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], f"lint timed out after {timeout:.0f} s"
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return [], f"lint exit {done.returncode}, no JSON:\n{rc.tail(done.stderr)}"
    findings = report["findings"]
    for finding in findings:
        finding["path"] = Path(os.path.normpath(root / finding["path"])).relative_to(
            root).as_posix()
    return findings, ""


def run_suite(project: rc.Project, python: Path, root: Path, out: Path, trace: Path,
              timeout: float) -> tuple[rc.TestRun, str]:
    env = rc.project_env(project, python, root)
    env["PYTHONPATH"] = f"{HERE}{os.pathsep}{env['PYTHONPATH']}"
    env.update(LVR_ROOT=str(root), LVR_OUT=str(out), LVR_TRACE=str(trace))
    command = [str(python) if part == "python" else part for part in project.test_command]
    command += ["-p", "lint_capture"]
    started = time.monotonic()
    log = root.parent / "suite.log"
    with log.open("w") as sink:
        process = subprocess.Popen(command, cwd=root / project.test_cwd, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, text=True)
        ended = None  # when pytest printed its summary line
        while process.poll() is None:
            time.sleep(1)
            now = time.monotonic()
            if ended is None and rc.parse_pytest(log.read_text(errors="replace")).summary:
                ended = now
            late = ended is not None and now - ended > EXIT_GRACE
            if late or now - started > timeout:
                process.kill()  # a suite left a non-daemon thread running (an aiosqlite
                process.wait()  # connection never closed): the records are written already
                break
    output = log.read_text(errors="replace")
    run = rc.parse_pytest(output)
    run.returncode, run.seconds = process.returncode, round(time.monotonic() - started, 1)
    if not run.summary and time.monotonic() - started > timeout:
        run.problems.append(f"timed out after {timeout:.0f} s")
    return run, output


def read_records(out: Path) -> tuple[list[dict], dict[str, set[int]]]:
    errors, lines = [], {}
    if out.exists():
        for raw in out.read_text(encoding="utf-8").splitlines():
            record = json.loads(raw)
            if record["event"] == "error":
                errors.append(record)
            elif record["event"] == "lines":
                for path, numbers in record["lines"].items():
                    lines.setdefault(path, set()).update(numbers)
    return errors, lines


def sites_of(errors: list[dict], root: Path) -> tuple[list[Site], int]:
    sites: dict[tuple, Site] = {}
    unlocated = 0
    for record in errors:
        frames = [(f["path"], f["line"]) for f in record["frames"]]
        if not frames:
            unlocated += 1
            continue
        loading = record.get("loading") or {}
        what = (f"{loading.get('class')}.{','.join(loading.get('attrs', []))} "
                f"({loading.get('how')})" if loading else "")
        key = (record["kind"], frames[0], what)
        site = sites.get(key)
        if site is None:
            path, line = frames[0]
            try:
                text = (root / path).read_text(encoding="utf-8").splitlines()[line - 1].strip()
            except (OSError, IndexError):
                text = ""
            site = sites[key] = Site(record["kind"], path, line, text, what,
                                     record["message"], frames)
        site.hits += 1
        site.tests.add(record["test"])
    return list(sites.values()), unlocated


def match(outcome: Outcome, spans: Spans, ran: dict[str, set[int]]) -> None:
    by_place: dict[tuple[str, int], list[dict]] = {}
    for finding in outcome.findings:
        by_place.setdefault((finding["path"], finding["line"]), []).append(finding)
    matched: set[int] = set()
    for site in outcome.sites:
        for depth, (path, line) in enumerate(site.frames):
            first, last = spans.of(path, line)
            here = [f for n in range(first, last + 1) for f in by_place.get((path, n), [])]
            if here:
                site.found_by = ", ".join(sorted({
                    f"{f['code']} at {f['path']}:{f['line']} "
                    f"({'read' if depth == 0 else 'caller'})" for f in here}))
                matched.update(id(f) for f in here)
                break
        if site.loading and not site.found_by:
            owner, _, rest = site.loading.partition(".")
            attrs = rest.split(" ")[0].split(",")
            named = [f for f in outcome.findings if f["code"] == "SQA500" and any(
                f"{owner}.{a}" in f["message"] for a in attrs)]
            if named:
                site.found_by = ", ".join(sorted({f"SQA500 at {f['path']}:{f['line']} "
                                                  "(names it)" for f in named}))
                matched.update(id(f) for f in named)
    for finding in outcome.findings:
        if id(finding) in matched:
            finding["status"] = "matched"
            continue
        first, last = spans.of(finding["path"], finding["line"])
        done = ran.get(finding["path"], set())
        finding["status"] = ("ran clean" if any(n in done for n in range(first, last + 1))
                             else "not run")


def run_project(project: rc.Project, args: argparse.Namespace, work: Path) -> Outcome:
    outcome = Outcome(project.name)
    root = work / "migrated-async"
    rc.copy_tree(args.src / project.name, root)
    rc.log(f"  migrating {project.name} --target async")
    _, error = rc.run_tool(args.repo, root, project.subpath, "async", args.timeout)
    if error:
        outcome.error = f"migration: {error.splitlines()[0]}"
    rc.log(f"  linting {project.name}")
    outcome.findings, error = run_lint(args.repo, root, project.subpath, args.timeout)
    if error:
        outcome.error = error
        return outcome
    python = ASYNC_VENVS.get(project.name, rc.VENVS / project.name) / "bin" / "python"
    if project.name not in ASYNC_VENVS:
        try:
            python = rc.venv_python(project, args.src, True)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            outcome.error = str(exc)
            return outcome
    trace, out = work / "trace.json", work / "runtime.jsonl"
    out.unlink(missing_ok=True)
    trace.write_text(json.dumps(sorted({f["path"] for f in outcome.findings})))
    rc.log(f"  running the migrated suite of {project.name}")
    run, output = run_suite(project, python, root, out, trace, args.timeout)
    outcome.tests, outcome.seconds = run.short(), run.seconds
    if not run.summary:
        outcome.error = "; ".join(run.problems) or f"no pytest summary:\n{rc.tail(output)}"
    errors, ran = read_records(out)
    outcome.sites, outcome.unlocated = sites_of(errors, root)
    match(outcome, Spans(root), ran)
    return outcome


# -- output -----------------------------------------------------------------------------------
COLUMNS = ("errors", "found", "missed", "no_frame", "coroutine", "coroutine_found", "findings",
           "matched", "ran_clean", "not_run")


def print_table(outcomes: list[Outcome], details: bool) -> None:
    print("| project | migrated suite | implicit-I/O errors (sites) | found | missed | no frame "
          "| coroutine errors (sites) | found | lint findings | matched | ran clean | not run |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    total = Counter()
    for outcome in outcomes:
        counts = outcome.counts()
        total.update(counts)
        print(f"| {outcome.name} | {outcome.tests or 'n/a'} | "
              + " | ".join(str(counts[c]) for c in COLUMNS) + " |")
    print("| **all** | | " + " | ".join(str(total[c]) for c in COLUMNS) + " |")
    if not details:
        return
    for outcome in outcomes:
        print(f"\n== {outcome.name}" + (f"  (error: {outcome.error})" if outcome.error else ""))
        for site in sorted(outcome.sites, key=lambda s: (s.path, s.line)):
            mark = "found " if site.found_by else "MISSED"
            print(f"  {mark} {site.kind} {site.path}:{site.line} {site.loading} "
                  f"×{site.hits} in {len(site.tests)} test(s): {site.text}")
            print(f"         {site.found_by or site.message}")
        for finding in outcome.findings:
            if finding["status"] != "matched":
                print(f"  {finding['status']:9} {finding['code']} {finding['path']}:"
                      f"{finding['line']}: {finding['message'][:150]}")


def as_json(outcomes: list[Outcome]) -> str:
    def encode(outcome: Outcome) -> dict:
        return {"name": outcome.name, "error": outcome.error, "tests": outcome.tests,
                "seconds": outcome.seconds, "counts": outcome.counts(),
                "sites": [{**vars(s), "tests": sorted(s.tests)} for s in outcome.sites],
                "findings": outcome.findings}

    return json.dumps({"date": datetime.now(timezone.utc).isoformat(timespec="minutes"),
                       "projects": [encode(o) for o in outcomes]}, indent=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="append", default=[],
                        help=f"only this one (repeat; default: {', '.join(PROJECTS)})")
    parser.add_argument("--src", type=Path, default=rc.DEFAULT_SRC, help="fetched checkouts")
    parser.add_argument("--repo", type=Path, default=rc.DEFAULT_REPO,
                        help="sqla-asyncify checkout")
    parser.add_argument("--manifest", type=Path, default=rc.MANIFEST)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run / suite")
    parser.add_argument("--details", action="store_true",
                        help="each runtime error and each unmatched finding")
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    parser.add_argument("--keep", type=Path, help="keep the copies and records under this dir")
    args = parser.parse_args(argv)
    args.repo, args.src = args.repo.resolve(), args.src.resolve()
    wanted = args.project or list(PROJECTS)
    projects = {p.name: p for p in rc.load_manifest(args.manifest)}
    unknown = [name for name in wanted if name not in projects
               or not projects[name].test_command]
    if unknown:
        rc.log(f"unknown project(s) or no suite: {', '.join(unknown)}")
        return 2
    outcomes = []
    for name in wanted:
        project = projects[name]
        if not (args.src / name).is_dir():
            rc.log(f"{name}: no source at {args.src / name}")
            continue
        rc.log(f"{name}:")
        with rc.project_workdir(args.keep, name, "lint-runtime") as work:
            outcomes.append(run_project(project, args, work))
    if args.json:
        print(as_json(outcomes))
    else:
        print_table(outcomes, args.details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
