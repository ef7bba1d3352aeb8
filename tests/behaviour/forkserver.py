"""Run `python [-W OPTION]... SCRIPT [ARGS...]` in a fork of a warm interpreter.

A behaviour test runs each program in a fresh interpreter, and most of such a run (0.5 of
0.7 s) is the interpreter starting and importing SQLAlchemy. This module is both ends of a
faster way to the same run:

* run as a script, it is the server: it imports SQLAlchemy and the drivers once, then for each
  request (a JSON line on its stdin) forks a child that runs the script as `python` would —
  `sys.argv`, `sys.path[0]` (the script's folder), the working folder, the environment, the
  `-W` options (on the fresh interpreter's default filters), stdin from /dev/null, stdout and
  stderr written to the files the request names (encoded as `PYTHONIOENCODING` says), the
  script as `__main__` (`runpy.run_path`), then the interpreter's exit: the status of
  `SystemExit` or 1 with the traceback, non-daemon threads joined, `atexit` handlers run,
  the streams flushed. The child reseeds `random`, as a new interpreter seeds it. It answers
  with the exit status (`-N` for a signal, as `subprocess` does; a child still running after
  the timeout is killed with its process group).
* imported, `ForkServer.run()` sends such requests and gives a `CompletedProcess`. A server
  that cannot start, or dies, or a request it cannot serve (anything but `-W` options before
  the script) makes that run a plain subprocess, so a run never depends on the server.

Each `ForkServer` is its own interpreter, so its children share one hash seed; a behaviour test
runs originals on one server and migrated programs on another, so the two runs it compares
have different hash seeds, like two fresh interpreters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

DEFAULT_FILTERS = list(warnings.filters)  # a fresh interpreter's, before any -W option

# What the programs import (the stacks of tests/behaviour/programs), imported once by the server.
PRELOAD = (
    "asyncio", "sqlite3", "random", "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.ext.asyncio",
    "sqlalchemy.ext.declarative", "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.sqlite.aiosqlite", "aiosqlite", "greenlet",
    "sqlalchemy.dialects.postgresql.psycopg", "sqlalchemy.dialects.postgresql.asyncpg",
    "psycopg", "asyncpg",
)
SERVER = Path(__file__).resolve()


# --- the client --------------------------------------------------------------------------------
class ForkServer:
    """One server process, started on first use; `run` is `subprocess.run([sys.executable,
    *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)`."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env  # the server's own environment (what the interpreter starts with)
        self._process: subprocess.Popen[str] | None = None
        self._failed = not hasattr(os, "fork")
        self.forked = 0  # runs served by a fork (the others were plain subprocesses)
        self._lock = threading.Lock()

    def _server(self) -> subprocess.Popen[str] | None:
        if self._failed:
            return None
        if self._process is None:
            try:
                self._process = subprocess.Popen(
                    [sys.executable, str(SERVER)], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, text=True, encoding="utf-8", env=self.env)
                ready = json.loads(self._process.stdout.readline() or "{}")
                if ready.get("ready") is not True:
                    raise RuntimeError(f"the fork server did not start: {ready}")
            except (OSError, ValueError, RuntimeError):
                self._fail()
                return None
        return self._process

    def _fail(self) -> None:
        self._failed = True
        if self._process is not None:
            self._process.kill()
            self._process.wait()

    def close(self) -> None:
        """Stop the server (a later run starts another)."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.stdin.close()
                self._process.wait(timeout=30)
            self._process = None

    def run(self, args: list[str], cwd: Path, env: dict[str, str],
            timeout: float) -> subprocess.CompletedProcess[str]:
        script = _script(args)
        with self._lock:
            server = self._server() if script is not None else None
            if server is None or _startup(env) != _startup(self.env):
                return _subprocess(args, cwd, env, timeout)
            with tempfile.TemporaryDirectory(prefix="forkrun-") as folder:
                out, err = Path(folder, "stdout"), Path(folder, "stderr")
                request = {"argv": args, "cwd": str(cwd), "env": env, "timeout": timeout,
                           "stdout": str(out), "stderr": str(err)}
                try:
                    server.stdin.write(json.dumps(request) + "\n")
                    server.stdin.flush()
                    answer = json.loads(server.stdout.readline())
                except (OSError, ValueError):
                    self._fail()
                    return _subprocess(args, cwd, env, timeout)
                encoding = _io_encoding(env)[0]
                stdout = out.read_text(encoding=encoding, errors="replace")
                stderr = err.read_text(encoding=encoding, errors="replace")
            self.forked += 1
            if answer.get("timed_out"):
                return subprocess.CompletedProcess(
                    [sys.executable, *args], -1, stdout,
                    stderr + f"\n[timed out after {timeout:g} s]")
            return subprocess.CompletedProcess([sys.executable, *args], answer["status"],
                                               stdout, stderr)


def _subprocess(args: list[str], cwd: Path, env: dict[str, str],
                timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=timeout)
    except subprocess.TimeoutExpired as exc:

        def text(data: bytes | str | None) -> str:
            return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")

        return subprocess.CompletedProcess(
            exc.cmd, -1, text(exc.stdout), text(exc.stderr) + f"\n[timed out after {timeout} s]")


def _script(args: list[str]) -> tuple[list[str], str, list[str]] | None:
    """(-W options, script, its arguments) of `python ARGS`, or None for any other form."""
    options, rest = [], list(args)
    while rest and rest[0].startswith("-"):
        if rest[0] == "-W" and len(rest) > 1:
            options.append(rest[1])
            rest = rest[2:]
        elif rest[0].startswith("-W") and len(rest[0]) > 2:
            options.append(rest[0][2:])
            rest = rest[1:]
        else:
            return None
    if not rest or not rest[0].endswith(".py"):
        return None
    return options, rest[0], rest[1:]


def _startup(env: dict[str, str]) -> dict[str, str]:
    """The variables an interpreter reads as it starts (PYTHONPATH, PYTHONHASHSEED, ...): a
    run whose differ from the server's cannot be its fork."""
    return {k: v for k, v in env.items() if k.startswith("PYTHON") and k != "PYTHONIOENCODING"}


def _io_encoding(env: dict[str, str],
                 default: tuple[str, str | None] = ("utf-8", None)) -> tuple[str, str | None]:
    """The streams' encoding and errors: PYTHONIOENCODING's, or else `default` (the server's
    own, which its environment gave as it does a fresh interpreter's)."""
    encoding, _, errors = env.get("PYTHONIOENCODING", "").partition(":")
    return encoding or default[0], errors or (None if encoding else default[1])


# --- the server --------------------------------------------------------------------------------
STREAMS = (sys.__stdout__.encoding if sys.__stdout__ else "utf-8", None)


def _serve() -> int:
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        import importlib

        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except ImportError:
                pass
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # nothing of the server's own goes to the answers
    if shown:  # a run would not see these warnings again (their registries are filled)
        answers.write(json.dumps({"ready": False, "warnings": [str(w.message) for w in shown]})
                      + "\n")
        return 1
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            requests.close()
            answers.close()
            _child(request)
        answers.write(json.dumps(_wait(pid, request["timeout"])) + "\n")
        answers.flush()
    return 0


def _wait(pid: int, timeout: float) -> dict:
    import select
    import signal
    import time

    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            if fd is not None:
                os.close(fd)
            return {"timed_out": True}
        if fd is not None:
            select.select([fd], [], [], left)
        else:
            time.sleep(min(left, 0.005))
    if fd is not None:
        os.close(fd)
    return {"status": os.waitstatus_to_exitcode(status)}


def _child(request: dict) -> None:
    status = 1
    try:
        os.setpgid(0, 0)
        import random
        import runpy

        options, script, args = _script(request["argv"])
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        encoding, errors = _io_encoding(request["env"], STREAMS)
        sys.stdout = sys.__stdout__ = open(1, "w", encoding=encoding,  # noqa: SIM115
                                           errors=errors or "strict", closefd=False)
        sys.stderr = sys.__stderr__ = open(2, "w", encoding=encoding,  # noqa: SIM115
                                           errors=errors or "backslashreplace",
                                           buffering=1, closefd=False)
        sys.stdin = sys.__stdin__ = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
        warnings.filters[:] = DEFAULT_FILTERS
        warnings._filters_mutated()
        sys.warnoptions[:] = options
        warnings._processoptions(options)
        random.seed()  # a fresh interpreter seeds it from os.urandom
        sys.argv = [script, *args]
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        status = _run_main(runpy, script)
        threading._shutdown()  # the interpreter joins non-daemon threads before atexit
        import atexit

        atexit._run_exitfuncs()
        try:
            sys.stdout.flush()
        except Exception:
            status = 120  # as the interpreter, when stdout cannot be flushed at exit
        sys.stderr.flush()
    except BaseException:
        import traceback

        traceback.print_exc()
        try:
            sys.stderr.flush()
        except Exception:
            pass
    finally:
        os._exit(status)


def _run_main(runpy, script: str) -> int:
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code & 0xFF
        print(code, file=sys.stderr)
        return 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
