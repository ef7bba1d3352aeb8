"""Settings read from the target project's pyproject.toml."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codemods import Config
from codemods.config import Settings, load_settings, lowest_python, sqlalchemy_pin


@pytest.mark.parametrize(("requires", "lowest"), [
    (">=3.9", (3, 9)),
    (">=3.10,<4", (3, 10)),
    ("~=3.11", (3, 11)),
    ("==3.12.*", (3, 12)),
    (">=3.8, !=3.9.1", (3, 8)),
    ("<4", None),
    (None, None),
])
def test_lowest_python_of_requires_python(requires: str | None,
                                          lowest: tuple[int, int] | None) -> None:
    assert lowest_python(requires) == lowest


def test_requires_python_reaches_the_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "depot"\nrequires-python = ">=3.9"\n', encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.python == (3, 9)
    assert Config.from_settings(settings).python == (3, 9)


def test_unknown_requires_python_means_the_running_interpreter() -> None:
    assert Config.from_settings(Settings()).python == sys.version_info[:2]


@pytest.mark.parametrize(("files", "pin"), [
    ({"requirements.txt": "flask\nsqlalchemy<2\n"}, "requirements.txt: sqlalchemy<2"),
    ({"requirements/base.txt": "SQLAlchemy==1.4.46  # pinned\n"},
     "requirements/base.txt: SQLAlchemy==1.4.46"),
    ({"pyproject.toml": '[project]\ndependencies = ["sqlalchemy[asyncio]>=1.3,<2.0"]\n'},
     "pyproject.toml: sqlalchemy[asyncio]>=1.3,<2.0"),
    ({"setup.py": "install_requires=['flask', 'SQLAlchemy~=1.4']\n"},
     "setup.py: SQLAlchemy~=1.4"),
    ({"requirements.txt": "sqlalchemy>=2.0\nsqlalchemy-utils==1.0\nsqlalchemy_mixins==1.5\n"},
     None),
    ({"requirements.txt": "sqlalchemy<2.1\n"}, None),
])
def test_a_requirement_holding_sqlalchemy_below_2_is_found(
        tmp_path: Path, files: dict[str, str], pin: str | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "app").mkdir()
    assert sqlalchemy_pin(tmp_path / "app") == pin
