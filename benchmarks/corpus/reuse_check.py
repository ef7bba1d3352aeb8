#!/usr/bin/env python3
"""Per-file reuse on real code: for each corpus project, a run with a cache folder, then
edits one file at a time (its first, then its last top-level function or class removed) and
checks that the run reusing the earlier runs' traces equals a run without any cache, file by
file (text, findings, error). Prints per project the edits tried, the files kept and redone,
and any difference (exit status 1).

    python benchmarks/corpus/reuse_check.py                      # every project, async target
    python benchmarks/corpus/reuse_check.py --project continuum --target sync --files 10

Runs in this process from this checkout (`codemods`), on copies of `/work/corpus-src/<name>`
(see `run_corpus.py`); needs the project's dependencies only as far as the tool does (none).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "benchmarks")]

from rerun import without_a_definition  # noqa: E402

from codemods import Config, engine  # noqa: E402
from codemods.sources import SourceFile, discover  # noqa: E402

MANIFEST = Path(__file__).with_name("manifest.toml")
SOURCES = Path("/work/corpus-src")


def _results(root: Path, config: Config) -> dict[str, tuple]:
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]
    return {r.path: (r.new_source, [repr(f) for f in r.findings], r.error, r.error_line)
            for r in engine.iter_migrate(sources, config)}


def check(name: str, subpath: str, target: str, files: int) -> bool:
    kept: list[bool] = []
    real = engine.answered_alike

    def counting(questions, plans, contents) -> bool:
        held = real(questions, plans, contents)
        kept.append(held)
        return held

    engine.answered_alike = counting
    try:
        with tempfile.TemporaryDirectory(prefix="sqla-reuse-") as scratch:
            tree = Path(scratch) / name
            shutil.copytree(SOURCES / name, tree, symlinks=True)
            root = tree / subpath if subpath else tree
            config = Config(target=target, jobs=1)
            cached = replace(config, cache_dir=str(Path(scratch) / "cache"))
            _results(root, cached)
            chosen = sorted(p for p in root.rglob("*.py") if b"sqlalchemy" in p.read_bytes()
                            or b"session" in p.read_bytes())[:files]
            edits = same = 0
            for path in chosen:
                before = path.read_text(errors="surrogateescape")
                for which in (0, -1):
                    text = without_a_definition(before, which)
                    if text is None:
                        continue
                    path.write_text(text, errors="surrogateescape")
                    edits += 1
                    with_reuse, without = _results(root, cached), _results(root, config)
                    if with_reuse == without:
                        same += 1
                    else:
                        differ = [p for p in without if without[p] != with_reuse.get(p)]
                        print(f"  {name}: {path.relative_to(tree)} edited ({which}): "
                              f"{', '.join(differ[:5])} differ", file=sys.stderr)
                path.write_text(before, errors="surrogateescape")
    finally:
        engine.answered_alike = real
    print(f"{name:18} {target:5} edits {edits:3}  equal {same:3}  stages kept "
          f"{sum(kept):5}  redone {len(kept) - sum(kept):5}")
    return same == edits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="append", help="only these (repeatable)")
    parser.add_argument("--target", choices=("async", "sync"), default="async")
    parser.add_argument("--files", type=int, default=6, help="files edited per project")
    args = parser.parse_args(argv)
    projects = tomllib.loads(MANIFEST.read_text())["project"]
    ok = True
    for project in projects:
        if args.project and project["name"] not in args.project:
            continue
        if not (SOURCES / project["name"]).is_dir():
            print(f"{project['name']}: not in {SOURCES} (see run_corpus.py --fetch-hint)")
            continue
        ok &= check(project["name"], project.get("subpath", ""), args.target, args.files)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
