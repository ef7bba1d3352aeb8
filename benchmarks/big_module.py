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
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    args = parser.parse_args()
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
