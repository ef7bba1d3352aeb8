"""The CLI under bad input: every bad file gets `path:line: reason` on stderr (never a
traceback, never a half-written file), the other files are still processed, and the exit code
tells the truth."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def write_fails_alone(tree: Path, name: str, message: str):
    """`--write` over `tree`: `name` fails with `message` on stderr and keeps its bytes, the
    other files are migrated, and the exit code says a file failed."""
    before = (tree / name).read_bytes()
    result = run("migrate", str(tree), "--write")
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert (tree / name).read_bytes() == before
    assert MIGRATED_MARK in (tree / "good.py").read_text()
    return result


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


URL_TODO = '''\
# coding: {encoding}
import os

from sqlalchemy import create_engine

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///app.db")  # {comment}

engine = create_engine(DATABASE_URL, pool_pre_ping=True)
'''


# 4. what the tool inserts fits the file's encoding
@pytest.mark.parametrize(("encoding", "comment"), [("ascii", "plain"), ("latin-1", "caf\xe9")])
def test_markers_written_to_ascii_and_latin1_files_are_encodable(tree: Path, encoding: str,
                                                                 comment: str) -> None:
    path = tree / "db.py"
    path.write_bytes(URL_TODO.format(encoding=encoding, comment=comment).encode(encoding))
    (tree / "zzz_later.py").write_text(SYNC)  # written after db.py
    result = run("migrate", str(tree), "--write")
    assert result.exit_code == 0, result.output
    text = path.read_bytes().decode(encoding)
    assert "TODO(sqla-asyncify SQA001)" in text and "sqlite -> sqlite+aiosqlite" in text
    assert comment in text and "create_async_engine" in text
    assert MIGRATED_MARK in (tree / "zzz_later.py").read_text()
    assert run("migrate", str(tree), "--check").exit_code == 1  # the marker remains, once


# 11. a coding line CPython refuses
def test_an_unknown_coding_line_fails_its_file(tree: Path) -> None:
    (tree / "bogus.py").write_text("#!/usr/bin/env python\n# coding: klingon\n" + SYNC)
    write_fails_alone(tree, "bogus.py",
                      "bogus.py:2: unknown encoding: klingon (in the coding line)")


# 5. a file edited while the run goes on
def test_a_file_changed_during_the_run_is_not_overwritten(tree: Path, monkeypatch) -> None:
    import cli.main

    real = cli.main.iter_migrate
    edited = "# edited by hand meanwhile\n" + SYNC

    def edit_while_running(*args, **kwargs):
        for result in real(*args, **kwargs):
            if result.path.endswith("good.py"):
                (tree / "good.py").write_text(edited)
            yield result

    monkeypatch.setattr(cli.main, "iter_migrate", edit_while_running)
    (tree / "other.py").write_text(SYNC)
    result = run("migrate", str(tree), "--write")
    assert result.exit_code == 2
    assert "good.py: changed during the run; run again" in result.stderr
    assert (tree / "good.py").read_text() == edited
    assert MIGRATED_MARK in (tree / "other.py").read_text()


# 6. symbolic links, owner, group, mode, hard links, read-only files
def test_write_goes_through_a_symlink_to_its_target(tree: Path) -> None:
    (tree / "real").mkdir()
    os.replace(tree / "good.py", tree / "real" / "impl.py")
    os.symlink(os.path.join("real", "impl.py"), tree / "good.py")
    assert run("migrate", str(tree / "good.py"), "--write").exit_code == 0
    assert (tree / "good.py").is_symlink()
    assert MIGRATED_MARK in (tree / "real" / "impl.py").read_text()


def test_write_keeps_owner_group_and_mode(tree: Path) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    path = tree / "good.py"
    os.chown(path, nobody.pw_uid, nobody.pw_gid)
    os.chmod(path, 0o664)
    assert run("migrate", str(tree), "--write").exit_code == 0
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    assert info.st_mode & 0o7777 == 0o664
    assert MIGRATED_MARK in path.read_text()


def test_a_file_whose_owner_cannot_be_kept_is_rewritten_in_place(tree: Path,
                                                                  monkeypatch) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    path = tree / "good.py"
    os.chown(path, nobody.pw_uid, nobody.pw_gid)
    inode = path.stat().st_ino

    def not_permitted(*args):  # as for a user who does not own the file
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("codemods.sources.os.chown", not_permitted)
    assert run("migrate", str(tree), "--write").exit_code == 0
    info = path.stat()
    assert (info.st_ino, info.st_uid, info.st_gid) == (inode, nobody.pw_uid, nobody.pw_gid)
    assert MIGRATED_MARK in path.read_text()
    assert not [p for p in os.listdir(tree) if p.endswith(".tmp")]


def test_write_keeps_hard_links(tree: Path) -> None:
    os.link(tree / "good.py", tree / "linked.py.txt")
    assert run("migrate", str(tree / "good.py"), "--write").exit_code == 0
    assert os.path.samefile(tree / "good.py", tree / "linked.py.txt")
    assert MIGRATED_MARK in (tree / "linked.py.txt").read_text()


def test_read_only_files_are_reported_not_written(tree: Path) -> None:
    # the tests run as root, who may write anything: the mode bits decide
    (tree / "locked.py").write_text(SYNC)
    os.chmod(tree / "locked.py", 0o444)
    write_fails_alone(tree, "locked.py", "locked.py: read-only file: not written")


# 10. write failures: each its line on stderr, in every output mode
@pytest.mark.parametrize("mode", [[], ["--format", "json"], ["--diff"]])
def test_every_write_failure_is_reported_and_counted(tree: Path, monkeypatch,
                                                     mode: list[str]) -> None:
    import errno
    import tempfile

    for name in ("a.py", "b.py"):
        (tree / name).write_text(SYNC)
    real = tempfile.mkstemp

    def full_disk(*args, **kwargs):
        if kwargs.get("prefix", "").startswith((".a.py", ".b.py")):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr("codemods.sources.tempfile.mkstemp", full_disk)
    result = run("migrate", str(tree), "--write", *mode)
    assert result.exit_code == 2
    for name in ("a.py", "b.py"):
        assert f"error: {tree / name}: cannot write: No space left on device" in (
            result.stderr.replace("\n", "")), result.stderr
        assert (tree / name).read_text() == SYNC
        assert f"b/{name}" not in result.stdout  # no diff shown as if applied
    assert MIGRATED_MARK in (tree / "good.py").read_text()
    if mode == ["--format", "json"]:
        assert json.loads(result.stdout)["summary"]["failed"] == 2
    if not mode:
        assert "files failed" in result.stdout


def test_no_dry_run_line_when_files_failed(tree: Path) -> None:
    (tree / "broken.py").write_text("def f(:\n")
    result = run("migrate", str(tree))
    assert result.exit_code == 2
    assert "broken.py:1: syntax error" in result.stderr
    assert "Dry run: nothing was written" not in result.output


# 7. interrupted writes leave no temp file
def test_an_interrupted_write_leaves_no_temp_file(tree: Path, monkeypatch) -> None:
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("codemods.sources.os.replace", interrupted)
    result = run("migrate", str(tree), "--write")
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == [
        "sqla-asyncify: interrupted: files not written yet were left as they were"]
    assert (tree / "good.py").read_text() == SYNC
    assert not [p for p in os.listdir(tree) if p.endswith(".tmp")]


def test_stale_temp_files_of_a_killed_run_are_removed(tree: Path) -> None:
    stale = tree / ".good.py.k2j4_x9a.tmp"
    stale.write_text("half")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    fresh = tree / ".good.py.abcdefgh.tmp"  # maybe another run's, still writing
    fresh.write_text("half")
    assert run("migrate", str(tree), "--write").exit_code == 0
    assert not stale.exists() and fresh.exists()


def _big_tree(root: Path, files: int = 160) -> None:
    """Enough files for worker processes (two, at 40 files each or more)."""
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n')
    for i in range(files):
        (root / f"m{i:03}.py").write_text(SYNC * 4)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(tree: Path, *args: str):
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    return subprocess.Popen([sys.executable, "-m", "cli", "migrate", str(tree), "--no-cache",
                             "-j", "2", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_workers(process) -> set[int]:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        children = {c for c in _children(process.pid) if _alive(c)}
        if children:
            return children
        time.sleep(0.01)
    pytest.fail("no worker process started")


def _all_gone(pids: set[int], seconds: float = 10) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def _signalled_run(root: Path, send: Callable[[Any], None], *args: str
                   ) -> tuple[Any, str, set[int], Path]:
    """A run over a big tree, signalled by `send(process)` once its workers run: the
    process, its stderr, the workers and the tree. A loaded machine can leave the test
    unscheduled until the run is over (exit 0, the signal too late): up to three runs."""
    for attempt in range(3):
        tree = root / f"run{attempt}"
        tree.mkdir()
        _big_tree(tree)
        process = _start(tree, *args)
        workers = _wait_for_workers(process)
        send(process)
        _, err = process.communicate(timeout=60)
        if process.returncode != 0:
            break
    return process, err, workers, tree


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_workers_end_when_the_main_process_is_killed(tmp_path: Path, how: str) -> None:
    import signal

    process, err, workers, _ = _signalled_run(
        tmp_path, lambda process: process.send_signal(getattr(signal, how)))
    assert _all_gone(workers), f"workers {workers} still running"
    if how == "SIGTERM":
        assert process.returncode == 143
        assert err.strip().splitlines()[-1] == (
            "sqla-asyncify: terminated: files not written yet were left as they were")
        assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_ctrl_c_prints_one_line_and_ends_the_workers(tmp_path: Path) -> None:
    import signal

    # what a terminal's Ctrl-C does: SIGINT to the whole group
    process, err, workers, tree = _signalled_run(
        tmp_path, lambda process: os.killpg(process.pid, signal.SIGINT), "--write")
    assert process.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines() == [
        "sqla-asyncify: interrupted: files not written yet were left as they were"]
    assert _all_gone(workers)
    assert not list(tree.glob(".*.tmp"))


# 8. valid Python newer than the running interpreter
NEWER_SYNTAX = {  # name: (the Python it needs, its line in `code`, code)
    "fstring_quotes.py": ((3, 12), 2, 'label = {"a": 1}\nshown = f"{label["a"]}"\n'),
    "type_alias.py": ((3, 12), 1, "type Rows = list[tuple[int, str]]\n"),
    "generic_def.py": ((3, 12), 1, "def first[T](items: list[T]) -> T:\n    return items[0]\n"),
    "except_list.py": ((3, 14), 3, "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n"),
}


@pytest.mark.parametrize("name", sorted(NEWER_SYNTAX))
def test_newer_syntax_says_which_python_it_needs(tree: Path, name: str) -> None:
    import sys

    needs, line_in_code, code = NEWER_SYNTAX[name]
    if sys.version_info[:2] >= needs:
        pytest.skip(f"this Python parses {name}")
    (tree / name).write_text(SYNC + "\n\n" + code)
    result = run("migrate", str(tree))
    assert result.exit_code == 2
    line = SYNC.count("\n") + 2 + line_in_code
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (f"{name}:{line}: needs Python \u2265 {needs[0]}.{needs[1]} to analyse "
            f"(running {running})") in result.stderr.replace("\n", ""), result.stderr
    assert "syntax error" not in result.stderr
    assert "good.py" in result.stdout  # the other files go on


# 9. deep nesting CPython compiles
DEEP = {
    "nested_calls.py": "label = " + "str(" * 199 + "1" + ")" * 199 + "\n",
    "long_chain.py": "rows = session.query(User)" + ".filter(User.id > 0)" * 160 + ".all()\n",
    "many_terms.py": "total = " + " + ".join(["1"] * 1000) + "\n",
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deeply_nested_code_python_compiles_is_migrated(tree: Path, name: str) -> None:
    body = DEEP[name].replace("\n", "\n    ").rstrip() + "\n"
    (tree / name).write_text(SYNC + "\n\ndef deep(session: Session, User):\n    " + body
                             + "    return session.query(User).all()\n")
    result = run("migrate", str(tree), "--write")
    assert result.exit_code == 0, result.output
    text = (tree / name).read_text()
    assert "async def deep" in text and "RecursionError" not in result.output
    compile(text, name, "exec")


@pytest.mark.slow
def test_as_many_terms_as_python_compiles_are_migrated(tree: Path) -> None:
    def source(terms: int) -> str:
        return (SYNC + "\n\ndef deep(session: Session, User):\n    total = "
                + " + ".join(["1"] * terms) + "\n    return session.query(User).all()\n")

    def compiles(terms: int) -> bool:
        try:
            compile(source(terms), "deep.py", "exec")
        except RecursionError:
            return False
        return True

    low, high = 313, 100_000  # this Python's limit, between the two
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if compiles(middle) else (low, middle - 1)
    (tree / "deep.py").write_text(source(low - 20))  # a margin for the frames pytest uses
    result = run("migrate", str(tree / "deep.py"), "--write")
    assert result.exit_code == 0, result.output
    assert "async def deep" in (tree / "deep.py").read_text()


def test_code_nested_deeper_than_python_compiles_fails_alone(tree: Path) -> None:
    (tree / "too_deep.py").write_text(SYNC + "total = " + " + ".join(["1"] * 20_000) + "\n")
    write_fails_alone(tree, "too_deep.py", "too_deep.py: too deeply nested for Python to compile")


# 12. exit codes
def test_an_internal_error_exits_2_with_one_line(tree: Path, monkeypatch) -> None:
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("cli.main.iter_migrate", crash)
    result = run("migrate", str(tree))
    assert result.exit_code == 2
    assert result.stderr.strip() == "sqla-asyncify: internal error (RuntimeError: boom); " \
                                    "please report it"
    assert "Traceback" not in result.output


def test_help_documents_the_exit_codes() -> None:
    for args in (["--help"], ["migrate", "--help"]):
        text = run(*args).stdout
        assert "Exit codes:" in text
        for code in ("0 ", "1 ", "2 ", "130"):
            assert f"\n    {code}" in text, text


@pytest.mark.slow
def test_a_reader_gone_early_exits_141_without_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    for i in range(60):
        (tmp_path / f"m{i:02}.py").write_text(SYNC * 3)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    command = (f"'{sys.executable}' -m cli migrate '{tmp_path}' --no-cache -j 1 | head -1; "
               "exit ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""


# Found by benchmarks/fuzz.py: code `ast` parses but CPython refuses to compile is the input's
# fault, not an internal error of the rewrite.
def test_code_that_does_not_compile_as_it_is_is_not_an_internal_error(tree: Path) -> None:
    (tree / "bad.py").write_text(SYNC + "\nreturn first_user\n")
    result = write_fails_alone(tree, "bad.py", "the file does not compile as it is ('return' "
                                               "outside function, line 7)")
    assert "internal error" not in result.stderr
