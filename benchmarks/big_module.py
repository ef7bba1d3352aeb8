#!/usr/bin/env python3
"""Time the migration of one large generated module (about 7,500 lines).

Big modules stress the per-scope analysis (name lookups, call resolution) rather than the
per-file overhead `run_benchmark.py` measures. The module holds many mapped classes with
relationships, repository functions using `session.query` chains, and service functions
calling them, so the colouring reaches across the module.

    python benchmarks/big_module.py            # prints the seconds taken
    python benchmarks/big_module.py --lines 3000 --profile
    python benchmarks/big_module.py --megabytes 5 --floor   # a 5 MB file, vs libcst's parse
    python benchmarks/big_module.py --megabytes 5 --write /tmp/big.py --no-run
    python benchmarks/big_module.py --file /tmp/big.py --step floor --step migrate --rounds 3

`--file` times each `--step` in a fresh process (so one step's memory and imports do not
reach the next), the steps alternating round by round, and prints CPU seconds, peak RSS
and each step's ratio to the floor: `floor` is `libcst.parse_module` of the text, `parts`
the tool's own parse (`rewrite.parts.read_module`), `migrate` `codemods.migrate_source`.
`--checkout DIR` (repeatable) runs `parts` and `migrate` with that checkout's tool too,
so a before/after comparison alternates in the same minutes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from codemods import migrate_source  # noqa: E402

HEADER = '''"""Generated: one big module of models, repositories and services."""

import logging

from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import (DeclarativeBase, Mapped, Session, mapped_column, relationship,
                            sessionmaker)

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass
'''

# One "unit" per entity pair: two models, repository functions, services calling them.
UNIT = '''

PAGE_SIZE{n} = 20
DEFAULT_TITLE{n} = "item {n}"
STATUS_NEW{n} = "new"
STATUS_DONE{n} = "done"
STATUSES{n} = (STATUS_NEW{n}, STATUS_DONE{n})
OWNER_COLUMNS{n} = ("id", "name")
ITEM_COLUMNS{n} = ("id", "title", "owner_id")
log{n} = logging.getLogger("app.unit{n}")


class Owner{n}(Base):
    __tablename__ = "owner{n}"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    items: Mapped[list["Item{n}"]] = relationship(back_populates="owner")

    def __repr__(self) -> str:
        return f"Owner{n}({{self.name}})"


class Item{n}(Base):
    __tablename__ = "item{n}"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner{n}.id"))
    owner: Mapped[Owner{n}] = relationship(back_populates="items")


def get_owner{n}(session: Session, owner_id: int) -> Owner{n} | None:
    return session.query(Owner{n}).filter(Owner{n}.id == owner_id).first()


def list_items{n}(session: Session, title: str) -> list[Item{n}]:
    limit = PAGE_SIZE{n}
    items = (session.query(Item{n}).filter(Item{n}.title == title).order_by(Item{n}.id)
             .limit(limit).all())
    for item in items:
        print(item.owner.name)
    return items


def count_items{n}(session: Session) -> int:
    return session.query(Item{n}).count()


def add_item{n}(session: Session, owner_id: int, title: str) -> Item{n}:
    item = Item{n}(owner_id=owner_id, title=title)
    session.add(item)
    session.commit()
    log{n}.info("added %s (%s)", title, STATUS_NEW{n})
    return item


def rename_owner{n}(session: Session, owner_id: int, name: str) -> None:
    owner = get_owner{n}(session, owner_id)
    if owner is not None:
        owner.name = name
        session.commit()


def summary{n}(session: Session, owner_id: int) -> str:
    owner = get_owner{n}(session, owner_id)
    total = count_items{n}(session)
    names = [item.title for item in list_items{n}(session, DEFAULT_TITLE{n})]
    return f"{{owner}} {{total}} {{names}}"


def report{n}() -> str:
    with SessionLocal() as session:
        text = summary{n}(session, 1)
        add_item{n}(session, 1, "new")
        return text + summary{prev}(session, 2)


class Service{n}:
    def __init__(self, session: Session) -> None:
        self.session = session

    def titles(self) -> list[str]:
        return [i.title for i in self.session.query(Item{n}).all()]

    def rename(self, name: str) -> None:
        rename_owner{n}(self.session, 1, name)
'''


def generate(lines: int) -> str:
    """A module of about `lines` lines."""
    unit_lines = UNIT.count("\n")
    parts = [HEADER]
    for n in range(max(1, (lines - HEADER.count("\n")) // unit_lines)):
        parts.append(UNIT.format(n=n, prev=max(n - 1, 0)))
    return "".join(parts)


def generate_bytes(size: int) -> str:
    """A module of about `size` bytes (the same units as `generate`)."""
    unit = len(UNIT.format(n=500, prev=499).encode())
    return generate(HEADER.count("\n") + max(1, size // unit) * UNIT.count("\n"))


def _rss_mib() -> float:
    """This process's peak resident set so far (Linux: KiB; macOS: bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# Run in a fresh interpreter (`python -c`, `PYTHONPATH` at the checkout timed, so a checkout
# from before this driver can be timed too): the imports stay outside the timed span.
STEP_CODE = """
import hashlib, json, resource, sys, time
path, step, target = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
if step == "floor":
    import libcst
    start = time.process_time(); libcst.parse_module(text); out = {}
elif step == "parts":
    from codemods.rewrite.parts import read_module
    start = time.process_time(); read_module(text); out = {}
else:
    from codemods import migrate_source
    from codemods.config import Config
    config = Config(target=target)
    start = time.process_time(); result = migrate_source(text, "big_module.py", config)
    out = {"sha1": hashlib.sha1(result.new_source.encode()).hexdigest(),
           "findings": len(result.findings), "error": result.error}
out["cpu"] = time.process_time() - start
out["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_step(path: Path, step: str, checkout: Path, target: str) -> dict[str, object]:
    """CPU seconds, peak RSS (MiB, Linux) and, for `migrate`, the output's digest of one
    step in a fresh process with `checkout`'s tool."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", STEP_CODE, str(path), step, target],
                          env=env, cwd=checkout, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def drive(path: Path, steps: list[str], checkouts: list[Path], rounds: int,
          target: str) -> None:
    """Time `steps` on `path`, alternating, `rounds` times; print each run and the medians."""
    runs = [(step, checkout) for step in steps
            for checkout in ([REPO_ROOT] if step == "floor" else checkouts)]
    seconds: dict[tuple[str, Path], list[float]] = {run: [] for run in runs}
    peaks: dict[tuple[str, Path], list[float]] = {run: [] for run in runs}
    for number in range(1, rounds + 1):
        for step, checkout in runs:
            out = run_step(path, step, checkout, target)
            seconds[step, checkout].append(out["cpu"])
            peaks[step, checkout].append(out["rss"])
            output = (f", new text {out['sha1']}, {out['findings']} findings"
                      f"{', error ' + str(out['error']) if out['error'] else ''}"
                      if step == "migrate" else "")
            print(f"round {number}: {step:7} {checkout}: {out['cpu']:.2f} s CPU, peak RSS "
                  f"{out['rss']:.0f} MiB{output}", flush=True)
    floor = statistics.median(seconds["floor", REPO_ROOT]) if "floor" in steps else None
    for step, checkout in runs:
        median = statistics.median(seconds[step, checkout])
        ratio = f", {median / floor:.2f}x the floor" if floor else ""
        print(f"median {step:7} {checkout}: {median:.2f} s CPU{ratio}, peak RSS "
              f"{max(peaks[step, checkout]):.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=7500)
    parser.add_argument("--megabytes", type=float, help="a module of this size instead")
    parser.add_argument("--floor", action="store_true",
                        help="also time libcst.parse_module of the module (first) and print "
                             "the ratio")
    parser.add_argument("--write", type=Path, help="write the module to this file")
    parser.add_argument("--no-run", action="store_true", help="only generate (with --write)")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    parser.add_argument("--file", type=Path, help="time --step on this file (fresh processes)")
    parser.add_argument("--step", action="append", choices=("floor", "parts", "migrate"),
                        help="with --file: what to time (repeatable; default floor, migrate)")
    parser.add_argument("--checkout", action="append", type=Path,
                        help="with --file: time parts/migrate with this checkout's tool "
                             "(repeatable; default this one)")
    parser.add_argument("--rounds", type=int, default=3, help="with --file: alternating rounds")
    parser.add_argument("--target", default="async", choices=("async", "sync"),
                        help="with --file: the migration's target")
    args = parser.parse_args()
    if args.file:
        drive(args.file, args.step or ["floor", "migrate"],
              [c.resolve() for c in args.checkout or [REPO_ROOT]], args.rounds, args.target)
        return
    source = (generate_bytes(int(args.megabytes * 1_000_000)) if args.megabytes
              else generate(args.lines))
    if args.write:
        args.write.write_text(source)
        print(f"wrote {args.write} ({len(source.encode()) / 1e6:.2f} MB, "
              f"{source.count(chr(10))} lines)")
    if args.no_run:
        return
    floor = None
    if args.floor:
        import libcst

        start = time.perf_counter()
        libcst.parse_module(source)
        floor = time.perf_counter() - start
        print(f"libcst.parse_module: {floor:.2f} s, peak RSS {_rss_mib():.0f} MiB")
    profiler = cProfile.Profile() if args.profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    result = migrate_source(source, "big_module.py")
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    if result.error:
        sys.exit(f"migration failed: {result.error}")
    ratio = f", {seconds / floor:.2f}x the parse" if floor else ""
    print(f"{source.count(chr(10))} lines ({len(source.encode()) / 1e6:.2f} MB) migrated in "
          f"{seconds:.2f} s{ratio} ({len(result.findings)} findings), peak RSS "
          f"{_rss_mib():.0f} MiB")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
