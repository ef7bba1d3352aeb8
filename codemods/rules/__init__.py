"""The rule registry, derived from the rule modules in this package.

Each module defines one `Rule` subclass with its code and the codes it must run after (a
rule too large for one module is a package whose `rule.py` defines it);
order within a phase follows those declarations, then the code.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..config import Config
from .base import USERS_AND_ADDRESSES, Case, Rule


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


def select_rules(config: Config, phase: int) -> list[type[Rule]]:
    """The rules of one phase that `config` enables for its target."""
    return [r for r in RULES if r.phase == phase and config.target in r.targets
            and config.enables(r.code)]


def rules_table() -> str:
    """The README's rule table (a test keeps the README in step with it)."""
    rows = [f"| `{r.code}` | {r.summary} |" for r in RULES_BY_CODE]
    return "\n".join(["| code | what it does |", "|---|---|", *rows]) + "\n"


__all__ = ["RULES", "RULES_BY_CODE", "USERS_AND_ADDRESSES", "Case", "Rule", "rules_table",
           "select_rules"]
