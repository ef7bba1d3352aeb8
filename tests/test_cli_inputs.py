"""The CLI under bad input: every bad file gets `path:line: reason` on stderr (never a
traceback, never a half-written file), the other files are still processed, and the exit code
tells the truth."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()

SYNC = '''\
from sqlalchemy.orm import Session


def first_user(session: Session, User):
    return session.query(User).order_by(User.id).first()
'''
MIGRATED_MARK = "async def first_user"


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (tmp_path / "good.py").write_text(SYNC)
    return tmp_path


# 1. non-regular files
def test_a_named_pipe_is_skipped_with_a_line_saying_so(tree: Path) -> None:
    os.mkfifo(tree / "x.py")
    result = run("migrate", str(tree), "--write")
    assert result.exit_code == 0, result.output
    assert "x.py: skipped: not a regular file (a named pipe)" in result.stderr
    assert MIGRATED_MARK in (tree / "good.py").read_text()
    status = run("status", str(tree))
    assert status.exit_code == 0
    assert "x.py: skipped: not a regular file (a named pipe)" in status.stdout


# 2. symbolic link loops (and links to nothing)
def test_a_symlink_loop_fails_alone_and_the_rest_is_migrated(tree: Path) -> None:
    os.symlink("loop.py", tree / "loop.py")
    os.symlink("missing.py", tree / "dangling.py")
    result = run("migrate", str(tree), "--write")
    assert result.exit_code == 2
    assert "loop.py: cannot read: symbolic link loop" in result.stderr
    assert "dangling.py: cannot read: broken symbolic link" in result.stderr
    assert "Traceback" not in result.output
    assert MIGRATED_MARK in (tree / "good.py").read_text()
    # given by name too
    named = run("migrate", str(tree / "loop.py"), str(tree / "good.py"))
    assert named.exit_code == 2 and "symbolic link loop" in named.stderr


# 3. file names that are not UTF-8
@pytest.mark.parametrize("cache", [True, False])
def test_a_file_name_that_is_not_utf8_works_with_the_cache(tree: Path, cache: bool,
                                                           tmp_path_factory) -> None:
    name = os.fsdecode(b"caf\xe9.py")
    (tree / name).write_text(SYNC)
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    try:
        args = ["migrate", str(tree), "--write"] + ([] if cache else ["--no-cache"])
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert "caf\\xe9.py" in result.stdout  # shown with an escape, never a crash
        assert MIGRATED_MARK in (tree / name).read_text()
        data = json.loads(run("migrate", str(tree), "--format", "json").stdout)
        assert data["summary"]["failed"] == 0
    finally:
        del os.environ["XDG_CACHE_HOME"]


# 13. skipped folders
def test_source_folders_named_env_or_build_are_migrated(tree: Path) -> None:
    for folder in ("pkg/env", "pkg/build", "pkg/dist", "pkg/venv"):
        (tree / folder).mkdir(parents=True)
        (tree / folder / "models.py").write_text(SYNC)
    (tree / "pkg" / "__init__.py").write_text("")
    data = json.loads(run("migrate", str(tree), "--format", "json").stdout)
    names = {Path(f["path"]).relative_to(tree).as_posix() for f in data["files"]}
    assert {"pkg/env/models.py", "pkg/build/models.py", "pkg/dist/models.py",
            "pkg/venv/models.py"} <= names


def test_virtualenvs_and_top_level_build_output_are_skipped_and_said_with_v(tree: Path
                                                                            ) -> None:
    for folder in ("build", "dist", "venv", "pkg/.tox", "pkg/node_modules", "pkg/__pycache__",
                   "pkg/myenv"):
        (tree / folder).mkdir(parents=True)
        (tree / folder / "gen.py").write_text(SYNC)
    (tree / "pkg" / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tree / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    quiet = run("migrate", str(tree), "--format", "json")
    assert [Path(f["path"]).name for f in json.loads(quiet.stdout)["files"]] == ["good.py"]
    assert "skipped" not in quiet.stderr
    verbose = run("migrate", str(tree), "-v")
    said = verbose.stderr
    for line in ("build/: skipped: build output at the project root",
                 "dist/: skipped: build output at the project root",
                 "venv/: skipped: virtualenv (it has pyvenv.cfg)",
                 "pkg/myenv/: skipped: virtualenv (it has pyvenv.cfg)",
                 "pkg/.tox/: skipped: hidden folder",
                 "pkg/node_modules/: skipped: installed packages",
                 "pkg/__pycache__/: skipped: bytecode cache"):
        assert line in said.replace(str(tree) + os.sep, ""), said
