"""What a run is asked to do: which rules, which target, which test plugin — from
`[tool.sqla-asyncify]` in the target project's pyproject.toml, overridden by the CLI."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


TARGETS = ("async", "sync")
PYTEST_PLUGINS = ("asyncio", "anyio")


@dataclass(frozen=True)
class Config:
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    # rules outside `select` that the selected rules' output needs (`rules.resolve_selection`)
    pulled_in: frozenset[str] = frozenset()
    # "async": AsyncSession + await; "sync": 2.0-style select() on the same sync sessions
    target: str = "async"
    # how tests and fixtures that became async are marked: pytest-asyncio or anyio
    pytest_plugin: str = "asyncio"
    # worker processes for the per-file passes (1: all in this process)
    jobs: int = 1
    # SQA402: relationships without lazy= get lazy="raise" (implicit loads fail in tests)
    strict_loading: bool = False
    # "pkg.module:function" entry points called synchronously (SQA305 keeps sync wrappers)
    console_scripts: frozenset[str] = frozenset()
    # where the project index is cached by content hash (None: no cache)
    cache_dir: str | None = None
    # the oldest Python the migrated code must run on (`anext()` needs 3.10)
    python: tuple[int, int] = sys.version_info[:2]
    # set for one module of an async run migrated as with `--target sync`: why (Alembic, …)
    kept_sync: str | None = None
    # where the project's requirements hold SQLAlchemy below 2.0 ("requirements.txt:
    # sqlalchemy<2"), if they do
    sqlalchemy_pin: str | None = None

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r} (one of {', '.join(TARGETS)})")
        if self.pytest_plugin not in PYTEST_PLUGINS:
            raise ValueError(f"unknown pytest plugin {self.pytest_plugin!r} "
                             f"(one of {', '.join(PYTEST_PLUGINS)})")

    def enables(self, code: str) -> bool:
        """`--select` / `--ignore` let rule `code` run (they take prefixes: `SQA1` selects
        SQA1xx); its target is the rule's own business."""
        if code in self.pulled_in:
            return True
        return (not self.select or any(code.startswith(p) for p in self.select)) and not any(
            code.startswith(p) for p in self.ignore)

    @classmethod
    def from_settings(cls, settings: Settings, *, select: frozenset[str] | None = None,
                      ignore: frozenset[str] | None = None, target: str | None = None,
                      pytest_plugin: str | None = None, jobs: int = 1,
                      strict_loading: bool = False, cache_dir: str | None = None) -> Config:
        """The project's settings with the command line's choices (None: not given) on top."""
        return cls(select=select or settings.select, ignore=ignore or settings.ignore,
                   target=target or settings.target,
                   pytest_plugin=pytest_plugin or settings.pytest_plugin, jobs=jobs,
                   strict_loading=strict_loading or settings.strict_loading,
                   console_scripts=settings.console_scripts, cache_dir=cache_dir,
                   python=settings.python or sys.version_info[:2],
                   sqlalchemy_pin=settings.sqlalchemy_pin)


@dataclass(frozen=True)
class Settings:
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    target: str = "async"
    pytest_plugin: str = "asyncio"
    strict_loading: bool = False
    console_scripts: frozenset[str] = frozenset()  # "pkg.module:function" from [project.scripts]
    python: tuple[int, int] | None = None  # the lowest version [project] requires-python allows
    sqlalchemy_pin: str | None = None  # see Config


class SettingsError(ValueError):
    """`[tool.sqla-asyncify]` cannot be used as written: the message names the file and key."""


_KEYS = {  # key: what it must hold
    "select": "a list of rule codes or prefixes",
    "ignore": "a list of rule codes or prefixes",
    "exclude": "a list of path globs",
    "target": f"one of {', '.join(map(repr, TARGETS))}",
    "pytest-plugin": f"one of {', '.join(map(repr, PYTEST_PLUGINS))}",
    "strict-loading": "true or false",
    "lint": "a table: the settings of `sqla-asyncify lint`",
}
_LINT_KEYS = {  # [tool.sqla-asyncify.lint]
    "select": _KEYS["select"],
    "ignore": _KEYS["ignore"],
    "exclude": _KEYS["exclude"],
    "strict": "true or false",
    "baseline": "a path (relative to pyproject.toml)",
}


def _strings(table: dict[str, object], key: str, where: str,
             keys: dict[str, str] = _KEYS) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise SettingsError(f"{where}: `{key}` must be {keys[key]} (got {value!r})")


def _unknown_keys(table: dict[str, object], keys: dict[str, str], where: str) -> None:
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise SettingsError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(f'`{k}`' for k in unknown)} (known: "
                            f"{', '.join(keys)})")


def _choice(table: dict[str, object], key: str, where: str, allowed: tuple[str, ...],
            default: str) -> str:
    value = table.get(key, default)
    if value not in allowed:
        raise SettingsError(f"{where}: `{key}` must be {_KEYS[key]} (got {value!r})")
    return str(value)


def _table(pyproject: Path, data: dict[str, object]) -> dict[str, object]:
    """`[tool.sqla-asyncify]`, checked: unknown keys and wrong types raise SettingsError."""
    tool = data.get("tool", {})
    table = tool.get("sqla-asyncify", {}) if isinstance(tool, dict) else {}
    where = f"{pyproject}: [tool.sqla-asyncify]"
    if not isinstance(table, dict):
        raise SettingsError(f"{where} must be a table")
    _unknown_keys(table, _KEYS, where)
    strict = table.get("strict-loading", False)
    if not isinstance(strict, bool):  # `"false"` is a string, and bool("false") is True
        raise SettingsError(f"{where}: `strict-loading` must be true or false (got "
                            f"{strict!r})")
    return table


# `>=3.9`, `~=3.10`, `==3.11.*`, `>3.8`: a lower bound on the Python version
_LOWER_BOUND = re.compile(r"(?:>=|~=|==|>)\s*(\d+)\.(\d+)")


def lowest_python(requires: object) -> tuple[int, int] | None:
    """The oldest Python version a `requires-python` specifier allows (None: no lower bound
    in it, or not a string)."""
    if not isinstance(requires, str):
        return None
    bounds = [(int(major), int(minor)) for major, minor in _LOWER_BOUND.findall(requires)]
    return max(bounds) if bounds else None


# `sqlalchemy<2`, `SQLAlchemy==1.4.46`, `sqlalchemy~=1.4`, `sqlalchemy>=1.3,<2.0`: in a
# requirements line, or quoted in pyproject.toml / setup.py / setup.cfg.
_SQLALCHEMY_REQUIREMENT = re.compile(
    r"""(?:^|["'])\s*(?P<name>sqlalchemy(?:\[[^\]]*\])?)(?![\w.-])\s*(?P<spec>[<>=!~][^;#"'\n]*)""",
    re.IGNORECASE | re.MULTILINE)
_BELOW_2 = re.compile(r"<\s*2(\.0)*\s*($|,)|<=\s*1\.|==\s*1\.|~=\s*1\.")
_REQUIREMENT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "requirements*.txt",
                      "requirements/*.txt")


def sqlalchemy_pin(start: Path) -> str | None:
    """`file: requirement` where the project (the nearest folder at or above `start` with a
    requirements or packaging file) holds SQLAlchemy below 2.0, which the migrated code needs."""
    folder = Path(os.path.realpath(start))  # never raises on a symbolic link loop
    for candidate in (folder, *folder.parents) if folder.is_dir() else folder.parents:
        files = sorted(f for pattern in _REQUIREMENT_FILES for f in candidate.glob(pattern))
        if not files:
            continue
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for match in _SQLALCHEMY_REQUIREMENT.finditer(text):
                if _BELOW_2.search(match["spec"]):
                    return (f"{file.relative_to(candidate).as_posix()}: "
                            f"{match['name']}{match['spec'].strip()}")
        return None
    return None


def load_settings(start: Path) -> Settings:
    """Settings from the nearest pyproject.toml at or above `start` (defaults if none)."""
    return replace(_pyproject_settings(start), sqlalchemy_pin=sqlalchemy_pin(start))


def _pyproject(start: Path) -> tuple[Path, dict[str, object]] | None:
    """The nearest pyproject.toml at or above `start`, read (None: there is none)."""
    folder = Path(os.path.realpath(start))  # never raises on a symbolic link loop
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                return pyproject, tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise SettingsError(f"{pyproject}: cannot read: {exc}") from None
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"{pyproject}: invalid TOML: {exc}") from None
    return None


@dataclass(frozen=True)
class LintSettings:
    """`[tool.sqla-asyncify.lint]`."""

    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    strict: bool = False
    baseline: Path | None = None  # resolved against the folder of pyproject.toml


def load_lint_settings(start: Path) -> LintSettings:
    """`[tool.sqla-asyncify.lint]` of the nearest pyproject.toml (defaults if none); unknown
    keys and wrong types raise SettingsError, as in `[tool.sqla-asyncify]`."""
    found = _pyproject(start)
    if found is None:
        return LintSettings()
    pyproject, data = found
    table = _table(pyproject, data).get("lint", {})
    where = f"{pyproject}: [tool.sqla-asyncify.lint]"
    if not isinstance(table, dict):
        raise SettingsError(f"{where} must be a table")
    _unknown_keys(table, _LINT_KEYS, where)
    strict, baseline = table.get("strict", False), table.get("baseline")
    if not isinstance(strict, bool):
        raise SettingsError(f"{where}: `strict` must be true or false (got {strict!r})")
    if baseline is not None and not isinstance(baseline, str):
        raise SettingsError(f"{where}: `baseline` must be {_LINT_KEYS['baseline']} (got "
                            f"{baseline!r})")
    return LintSettings(
        select=frozenset(c.upper() for c in _strings(table, "select", where, _LINT_KEYS)),
        ignore=frozenset(c.upper() for c in _strings(table, "ignore", where, _LINT_KEYS)),
        exclude=tuple(_strings(table, "exclude", where, _LINT_KEYS)), strict=strict,
        baseline=pyproject.parent / baseline if baseline else None)


def _pyproject_settings(start: Path) -> Settings:
    found = _pyproject(start)
    if found is None:
        return Settings()
    pyproject, data = found
    table = _table(pyproject, data)
    where = f"{pyproject}: [tool.sqla-asyncify]"
    return Settings(
        select=frozenset(c.upper() for c in _strings(table, "select", where)),
        ignore=frozenset(c.upper() for c in _strings(table, "ignore", where)),
        exclude=tuple(_strings(table, "exclude", where)),
        target=_choice(table, "target", where, TARGETS, "async"),
        pytest_plugin=_choice(table, "pytest-plugin", where, PYTEST_PLUGINS, "asyncio"),
        strict_loading=bool(table.get("strict-loading", False)),
        console_scripts=frozenset(str(v) for v in data.get("project", {}).get(
            "scripts", {}).values()),
        python=lowest_python(data.get("project", {}).get("requires-python")),
    )
