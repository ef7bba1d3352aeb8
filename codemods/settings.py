"""`[tool.sqla-asyncify]` in the target project's pyproject.toml (the CLI overrides it)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Settings:
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    target: str = "async"
    pytest_plugin: str = "asyncio"
    strict_loading: bool = False
    console_scripts: frozenset[str] = frozenset()  # "pkg.module:function" from [project.scripts]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def load_settings(start: Path) -> Settings:
    """Settings from the nearest pyproject.toml at or above `start` (defaults if none)."""
    folder = start.resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return Settings()
            table = data.get("tool", {}).get("sqla-asyncify", {})
            return Settings(
                select=frozenset(c.upper() for c in _strings(table.get("select"))),
                ignore=frozenset(c.upper() for c in _strings(table.get("ignore"))),
                exclude=tuple(_strings(table.get("exclude"))),
                target=str(table.get("target", "async")),
                pytest_plugin=str(table.get("pytest-plugin", "asyncio")),
                strict_loading=bool(table.get("strict-loading", False)),
                console_scripts=frozenset(str(v) for v in data.get("project", {}).get(
                    "scripts", {}).values()),
            )
    return Settings()
