#!/usr/bin/env python3
"""What migrating one package of a big project costs, against migrating all of it.

An incremental run (`migrate TREE/pkg`) indexes the whole project but parses, plans the
rewrite of and renders only what it must. This times, in fresh processes and alternating
round by round, a dry run of the whole tree and of one package, both with the index cache
warm and the run cache empty (a first run of that selection), plus the package with no
cache at all; CPU seconds of the tool's processes (user + sys, workers included).

    python benchmarks/incremental.py --tree /tmp/synth600 --package synthapp/orders
    python benchmarks/incremental.py --tree /work/corpus-src/aiida-core \\
        --package src/aiida/storage --rounds 3

The tree needs a `pyproject.toml` or `.git` at its top (the project root); one is written
into a temporary copy when it has neither. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _python_files(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.py"))


def _timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds (this child and its workers) of one run, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def project_copy(source: Path, tree: Path) -> Path:
    """A copy of `source` at `tree`, with a `pyproject.toml` when it has no project root
    marker (the CLI's cache folder is per project)."""
    shutil.copytree(source, tree, symlinks=True)
    if not (tree / "pyproject.toml").exists() and not (tree / ".git").exists():
        (tree / "pyproject.toml").write_text('[project]\nname = "measured"\n')
    return tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, required=True, help="the project")
    parser.add_argument("--package", required=True, help="the package, relative to --tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="checkout holding cli/")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="sqla-incremental-") as scratch:
        work = Path(scratch)
        tree = project_copy(args.tree, work / "tree")
        package = tree / args.package
        if not package.is_dir():
            parser.error(f"{args.package}: no such folder under {args.tree}")
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache"),
               "PYTHONPATH": str(args.repo)}
        command = [sys.executable, "-m", "cli", "migrate", "--format", "json"]
        runs = {
            "whole tree": [*command, str(tree)],
            "one package": [*command, str(package)],
            "one package, --no-cache": [*command, "--no-cache", str(package)],
        }
        whole, part = _python_files(tree), _python_files(package)
        _timed(runs["whole tree"], env, args.repo)  # warms the index cache

        def empty_run_cache() -> None:  # (and the per-file traces: a first run, cold)
            for folder in [*(work / "cache").rglob("runs"), *(work / "cache").rglob("traces")]:
                shutil.rmtree(folder)

        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                empty_run_cache()
                results[name].append(_timed(run, env, args.repo))

    print(f"{args.tree}: {whole} .py files; {args.package}: {part} ({part / whole:.1%})")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(f"{'run':28} {'CPU s per round':28} {'median CPU':>10} {'median wall':>11}  exit")
    medians = {}
    for name, rounds in results.items():
        cpu = [r[1] for r in rounds]
        medians[name] = statistics.median(cpu)
        print(f"{name:28} {' / '.join(f'{c:.2f}' for c in cpu):28} {medians[name]:>10.2f} "
              f"{statistics.median(r[0] for r in rounds):>11.2f}  "
              f"{sorted({r[2] for r in rounds})}")
    print(f"one package / whole tree (CPU): {medians['one package'] / medians['whole tree']:.2f}"
          f" (its share of the files: {part / whole:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
