"""The rule registry, derived from the rule modules in this package.

Each module defines one `Rule` subclass with its code and the codes it must run after (a
rule too large for one module is a package whose `rule.py` defines it);
order within a phase follows those declarations, then the code.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace

from ..config import Config
from .base import GUARANTEES, USERS_AND_ADDRESSES, Case, Rule


def _discover() -> list[type[Rule]]:
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and (
                    value.__module__ in (module.__name__, f"{module.__name__}.rule")):
                if value.code in found:
                    raise RuntimeError(f"duplicate rule code {value.code}")
                found[value.code] = value
    for rule in found.values():
        provided = set().union(*(found[code].provides for code in rule.after))
        if rule.reads - provided:
            raise RuntimeError(f"{rule.code} reads {sorted(rule.reads - provided)}, which no "
                               "rule in its `after` provides")
    ordered: list[type[Rule]] = []
    placed: set[str] = set()

    def place(rule: type[Rule], trail: tuple[str, ...] = ()) -> None:
        if rule.code in placed:
            return
        if rule.code in trail:
            raise RuntimeError(f"rule order cycle: {' -> '.join((*trail, rule.code))}")
        for code in rule.after:
            place(found[code], (*trail, rule.code))
        placed.add(rule.code)
        ordered.append(rule)

    for code in sorted(found):
        place(found[code])
    return sorted(ordered, key=lambda r: r.phase)  # stable: keeps dependency order per phase


RULES: list[type[Rule]] = _discover()  # in run order
RULES_BY_CODE: list[type[Rule]] = sorted(RULES, key=lambda r: r.code)  # as documented


class SelectionError(ValueError):
    """`--select`/`--ignore` turn off a rule the code of an enabled rule needs."""


def resolve_selection(config: Config) -> tuple[Config, list[str]]:
    """`config` with the rules its selection needs pulled in (from the rules' `needs` and
    `ensures`), and a note per rule pulled in. A rule the selection needs that `--ignore`
    names refuses the selection (SelectionError says what else to ignore or keep)."""
    by_code = {r.code: r for r in RULES if config.target in r.targets}
    active = {code for code in by_code if config.enables(code)}
    ignored = {code for code in by_code if any(code.startswith(p) for p in config.ignore)}
    added: dict[str, tuple[str, str]] = {}
    refused: dict[str, tuple[str, str]] = {}
    queue = sorted(active)
    while queue:
        needer = by_code[queue.pop(0)]
        for need in sorted(needer.needs):
            for code, rule in by_code.items():
                if need not in rule.ensures or code in active:
                    continue
                if code in ignored:
                    refused.setdefault(code, (needer.code, need))
                    continue
                active.add(code)
                added[code] = (needer.code, need)
                queue.append(code)
    if refused:
        raise SelectionError(_refusal(by_code, active, refused))
    by_need: dict[str, list[str]] = {}
    for code, (_, need) in sorted(added.items()):
        by_need.setdefault(need, []).append(code)
    notes = [f"the selected rules' code needs {', '.join(codes)} as well ({GUARANTEES[need]}): "
             "they run too" for need, codes in by_need.items()]
    return replace(config, pulled_in=config.pulled_in | frozenset(added)), notes


def _refusal(by_code: dict[str, type[Rule]], active: set[str],
             refused: dict[str, tuple[str, str]]) -> str:
    """The message refusing a selection: what needs the ignored rules, and which rules must be
    ignored with them for the output to stay coherent."""
    lost = set(refused)
    grew = True
    while grew:  # every enabled rule needing what only lost rules ensure is lost too
        ensured = set().union(*(by_code[c].ensures for c in lost))
        more = {c for c in active - lost if by_code[c].needs & ensured}
        grew = bool(more)
        lost |= more
    reasons = "; ".join(f"{needer} needs {code} ({GUARANTEES[need]})"
                        for code, (needer, need) in sorted(refused.items()))
    return (f"--ignore {', '.join(sorted(refused))} would leave code that does not work: "
            f"{reasons}. Keep {', '.join(sorted(refused))}, or ignore the rules that need "
            f"them as well: {', '.join(sorted(lost - set(refused)))}")


def select_rules(config: Config, phase: int) -> list[type[Rule]]:
    """The rules of one phase that `config` enables for its target."""
    return [r for r in RULES if r.phase == phase and config.target in r.targets
            and config.enables(r.code)]


def rules_table() -> str:
    """The README's rule table (a test keeps the README in step with it)."""
    rows = [f"| `{r.code}` | {r.summary} |" for r in RULES_BY_CODE]
    return "\n".join(["| code | what it does |", "|---|---|", *rows]) + "\n"


__all__ = ["RULES", "RULES_BY_CODE", "USERS_AND_ADDRESSES", "Case", "Rule", "SelectionError",
           "resolve_selection", "rules_table", "select_rules"]
