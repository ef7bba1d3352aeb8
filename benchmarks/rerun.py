#!/usr/bin/env python3
"""What a re-run costs: after nothing changed, and after one module changed.

Times, in fresh processes, round by round on a copy of a tree: a first run with an empty
cache folder, a re-run over the same files (the stored run replayed), a re-run after one
module was edited (each file whose questions the new plan answers alike keeps its result;
the others are redone), and a run with `--no-cache` (nothing read or kept). CPU seconds of
the tool's processes (user + sys, workers included) and wall seconds. Every run's JSON
report after the edit is compared with a `--no-cache` run of the edited tree: they must be
equal, or this exits with status 1.

    python benchmarks/rerun.py --tree /tmp/synth600 --edit synthapp/orders/services.py
    python benchmarks/rerun.py --tree /tmp/synth600 --edit synthapp/orders/admin.py \\
        --change drop-first --rounds 3 --compare-repo /tmp/base

`--change append` (default) adds a function that uses nothing; `drop-first` removes the
module's first top-level function or class (what calls it elsewhere may change);
`--compare-repo` runs each step from another checkout too, alternating. The tree needs a
`pyproject.toml` or `.git` at its top (the project root); one is written into the copy when
it has neither. Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from incremental import project_copy

REPO_ROOT = Path(__file__).resolve().parent.parent
STEPS = ("first run", "re-run, nothing changed", "re-run after the edit",
         "after the edit, --no-cache")


def _timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, bytes]:
    """Wall and CPU seconds (this child and its workers) of one run, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # (2 with a whole report: some files failed, as in a real tree with broken snippets)
    if done.returncode not in (0, 1) and not (done.returncode == 2 and _report(done.stdout)):
        sys.exit(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def without_a_definition(text: str, which: int) -> str | None:
    """The text without its first (`which` 0) or last (-1) top-level function or class;
    None when it has none or does not parse."""
    try:
        body = ast.parse(text).body
    except SyntaxError:
        return None
    found = [s for s in body if isinstance(
        s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    if not found:
        return None
    gone = found[which]
    lines = text.splitlines(keepends=True)
    start = min([gone.lineno, *(d.lineno for d in gone.decorator_list)]) - 1
    return "".join(lines[:start] + lines[gone.end_lineno:])


def _report(stdout: bytes) -> bool:
    try:
        return isinstance(json.loads(stdout), dict)
    except ValueError:
        return False


def edited(text: str, change: str) -> str:
    if change == "append":
        return text + "\n\ndef added_by_the_benchmark(value):\n    return value\n"
    shorter = without_a_definition(text, 0)
    if shorter is None:
        sys.exit("the module to edit has no top-level function or class")
    return shorter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, required=True, help="the project")
    parser.add_argument("--edit", required=True, help="the module to edit, relative to --tree")
    parser.add_argument("--change", choices=("append", "drop-first"), default="append")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="checkout holding cli/")
    parser.add_argument("--compare-repo", type=Path, help="another checkout, alternating")
    args = parser.parse_args(argv)
    repos = [args.repo, *([args.compare_repo] if args.compare_repo else [])]

    results = {(repo, step): [] for repo in repos for step in STEPS}
    with tempfile.TemporaryDirectory(prefix="sqla-rerun-") as scratch:
        work = Path(scratch)
        tree = project_copy(args.tree, work / "tree")
        module = tree / args.edit
        if not module.is_file():
            parser.error(f"{args.edit}: no such file under {args.tree}")
        original = module.read_text()
        command = [sys.executable, "-m", "cli", "migrate", "--format", "json", str(tree)]
        for _ in range(args.rounds):
            for repo in repos:
                cache = work / "cache"
                shutil.rmtree(cache, ignore_errors=True)
                env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(repo)}
                module.write_text(original)
                runs = [_timed(command, env, repo), _timed(command, env, repo)]
                module.write_text(edited(original, args.change))
                runs += [_timed(command, env, repo),
                         _timed([*command, "--no-cache"], env, repo)]
                module.write_text(original)
                if runs[2][2] != runs[3][2]:
                    print(f"{repo}: the re-run after the edit reports otherwise than a run "
                          "without cache", file=sys.stderr)
                    return 1
                for step, run in zip(STEPS, runs, strict=True):
                    results[repo, step].append(run[:2])

    files = sum(1 for _ in args.tree.rglob("*.py"))
    print(f"{args.tree}: {files} .py files; edited {args.edit} ({args.change}); "
          f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(f"{'checkout':24} {'run':28} {'CPU s per round':24} {'median CPU':>10} "
          f"{'median wall':>11}")
    for repo in repos:
        cold = statistics.median(c for _, c in results[repo, STEPS[0]])
        for step in STEPS:
            cpu = [c for _, c in results[repo, step]]
            print(f"{str(repo)[-24:]:24} {step:28} {' / '.join(f'{c:.2f}' for c in cpu):24} "
                  f"{statistics.median(cpu):>10.2f} "
                  f"{statistics.median(w for w, _ in results[repo, step]):>11.2f}"
                  f"  ({statistics.median(cpu) / cold:.2f}× the first run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
