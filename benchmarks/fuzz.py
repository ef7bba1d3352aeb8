"""Fuzz the migration library: no internal errors, and a second run changes nothing.

Two generators feed `codemods.migrate_source`:

- **generated**: valid Python programs from hypothesmith's grammar strategy
  (`hypothesmith.from_node()`), which exercise the parser-facing paths on shapes no fixture has;
- **mutated**: the inputs of tests/fixtures, mutated line by line (lines dropped, duplicated,
  swapped, re-indented, identifiers renamed, tokens spliced from another fixture), so the inputs
  stay SQLAlchemy-shaped and reach the rules.

For every input: the result must not be an internal error, and when it changed, migrating the
output again must change nothing (idempotence) and the output must compile. Failing inputs are
saved to a folder (default benchmarks/fuzz-failures/) for turning into fixtures.

    python benchmarks/fuzz.py --seconds 600            # ten minutes, both generators
    python benchmarks/fuzz.py --seconds 5 --seed 1     # a smoke run (the slow test does this)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from codemods import migrate_source  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


@dataclass
class Stats:
    inputs: int = 0
    generated: int = 0
    mutated: int = 0
    parsed: int = 0  # inputs the tool accepted (no error at all)
    changed: int = 0
    rejected: int = 0  # inputs refused with an ordinary error (syntax error, ...)
    internal_errors: int = 0
    second_run_changes: int = 0
    not_compiling: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def fixture_inputs() -> list[str]:
    """The texts of every fixture input (single-module and multi-module cases)."""
    texts = []
    for path in sorted(FIXTURES.rglob("*.py")):
        if "expected" in path.parts or ".expected" in path.name:
            continue
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
    return texts


def mutate(text: str, rng: random.Random, donors: list[str]) -> str:
    """One to four line-level or token-level mutations of `text`."""
    lines = text.splitlines(keepends=True) or ["\n"]
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(lines))
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = rng.choice(["    ", "        ", ""]) + lines[i].lstrip(" ")
        elif op == 4:
            names = IDENT.findall(lines[i])
            if names:
                old = rng.choice(names)
                new = rng.choice(IDENT.findall(text) or [old])
                lines[i] = re.sub(rf"\b{re.escape(old)}\b", new, lines[i], count=1)
        elif op == 5:
            donor = rng.choice(donors).splitlines(keepends=True)
            if donor:
                indent = re.match(r"[ \t]*", lines[i]).group(0)
                lines.insert(i, indent + rng.choice(donor).lstrip())
        else:
            k = rng.randint(1, 5)
            lines[i:i + k] = []
            if not lines:
                lines = ["\n"]
    return "".join(lines)


def compiles(text: str) -> bool:
    try:
        compile(text, "fuzz.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def mutated_inputs(rng: random.Random) -> Iterator[str]:
    """Mutants that CPython compiles (the tool's contract is about valid code; invalid code
    must only be refused, which the smoke test of the CLI covers)."""
    texts = fixture_inputs()
    while True:
        text = mutate(rng.choice(texts), rng, texts)
        if compiles(text):
            yield text


def generated_inputs(seed: int) -> Iterator[str]:
    """Programs from hypothesmith, drawn through hypothesis' `find`-free example API."""
    import hypothesmith
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    box: list[str] = []

    @settings(database=None, deadline=None, max_examples=1, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        box.append(data.draw(hypothesmith.from_node()))

    rng = random.Random(seed)
    while True:
        draw._hypothesis_internal_use_seed = rng.randrange(2**32)  # type: ignore[attr-defined]
        box.clear()
        try:
            draw()
        except Exception:  # a generator failure is not the tool's
            continue
        yield from box


def check(text: str, stats: Stats, save: Callable[[str, str], None]) -> None:
    stats.inputs += 1
    result = migrate_source(text, "fuzz.py")
    if result.error is not None:
        if "internal error" in result.error:
            stats.internal_errors += 1
            save("internal", text)
        else:
            stats.rejected += 1
        return
    stats.parsed += 1
    if not result.changed:
        return
    stats.changed += 1
    try:
        compile(result.new_source, "fuzz.py", "exec")
    except (SyntaxError, ValueError):
        stats.not_compiling += 1
        save("compile", text)
        return
    again = migrate_source(result.new_source, "fuzz.py")
    if again.error is not None or again.changed:
        stats.second_run_changes += 1
        save("second-run", text)


def run(seconds: float, seed: int, out: Path, generators: tuple[str, ...],
        max_inputs: int | None = None) -> Stats:
    """Fuzz for `seconds` (or until `max_inputs` inputs: the same inputs on any machine)."""
    stats = Stats()
    rng = random.Random(seed)
    sources = []
    if "mutated" in generators:
        sources.append(("mutated", mutated_inputs(rng)))
    if "generated" in generators:
        sources.append(("generated", generated_inputs(seed)))

    def save(kind: str, text: str) -> None:
        out.mkdir(parents=True, exist_ok=True)
        name = f"{kind}-{len(stats.failures):04d}.py"
        (out / name).write_text(text, encoding="utf-8")
        stats.failures.append(name)

    start = time.monotonic()
    turn = 0
    while time.monotonic() - start < seconds and (max_inputs is None
                                                  or stats.inputs < max_inputs):
        name, source = sources[turn % len(sources)]
        turn += 1
        with warnings.catch_warnings():  # SyntaxWarnings of generated code are not ours
            warnings.simplefilter("ignore")
            text = next(source)
            setattr(stats, name, getattr(stats, name) + 1)
            check(text, stats, save)
    stats.seconds = round(time.monotonic() - start, 1)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "fuzz-failures")
    parser.add_argument("--only", choices=("generated", "mutated"), default=None)
    args = parser.parse_args(argv)
    generators = (args.only,) if args.only else ("mutated", "generated")
    stats = run(args.seconds, args.seed, args.out, generators)
    print(json.dumps(asdict(stats), indent=2))
    bad = stats.internal_errors + stats.second_run_changes + stats.not_compiling
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
