"""`sqla-asyncify lint`: checks of async SQLAlchemy code for implicit I/O and misuse of the
asyncio API (codes SQA5xx), reusing the migration's index and analysis.

Each module `sqa5NN_*.py` defines one `LintRule`; the registry is derived from them.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import LintCase, LintContext, LintFinding, LintRule
from .runner import LintConfig, LintResult, lint_sources


def _discover() -> list[type[LintRule]]:
    found: dict[str, type[LintRule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("sqa5"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, LintRule) and (
                    value.__module__ == module.__name__):
                if value.code in found:
                    raise RuntimeError(f"duplicate lint rule code {value.code}")
                found[value.code] = value
    return [found[code] for code in sorted(found)]


LINT_RULES: list[type[LintRule]] = _discover()


def lint_rules_table() -> str:
    """The README's lint rule table (a test keeps the README in step with it)."""
    rows = [f"| `{r.code}` | {r.summary}{' (`--strict`)' if r.strict_only else ''} |"
            for r in LINT_RULES]
    return "\n".join(["| code | what it finds |", "|---|---|", *rows]) + "\n"


__all__ = ["LINT_RULES", "LintCase", "LintConfig", "LintContext", "LintFinding", "LintResult",
           "LintRule", "lint_rules_table", "lint_sources"]
