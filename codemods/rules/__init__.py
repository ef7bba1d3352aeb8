"""The rule registry, derived from the rule modules in this package.

Each module defines one `Rule` subclass with its code and the codes it must run after;
order within a phase follows those declarations, then the code.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Rule


def _discover() -> list[type[Rule]]:
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and (
                    value.__module__ == module.__name__):
                if value.code in found:
                    raise RuntimeError(f"duplicate rule code {value.code}")
                found[value.code] = value
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


RULES: list[type[Rule]] = _discover()


def select_rules(select: set[str] | None = None,
                 ignore: set[str] | None = None) -> list[type[Rule]]:
    """Rules enabled by `--select` / `--ignore` (prefixes allowed: `SQA1` selects SQA1xx)."""

    def matches(code: str, patterns: set[str]) -> bool:
        return any(code.startswith(p) for p in patterns)

    return [r for r in RULES
            if (not select or matches(r.code, select)) and not matches(r.code, ignore or set())]


__all__ = ["RULES", "Rule", "select_rules"]
