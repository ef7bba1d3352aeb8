"""``build_once.BuildOnce``: one build per artifact across processes, and no idle waiting."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from .build_once import SHARED, BuildOnce

pytestmark = pytest.mark.skipif(not SHARED, reason="no fcntl: nothing is shared")


def _slow_a(directory: Path) -> str:
    (directory / "a-started").touch()
    deadline = time.monotonic() + 10
    while not (directory / "b.pickle").exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # finish only once the other process has built b meanwhile
    return "value of a" if (directory / "b.pickle").exists() else "b was not built meanwhile"


def _builders(directory: Path) -> dict:
    return {"a": lambda: _slow_a(directory), "b": lambda: "value of b"}


def _get(directory: Path, name: str, queue) -> None:
    queue.put(BuildOnce(directory, _builders(directory), ["a", "b"]).get(name))


def _builds(directory: Path) -> list[str]:
    log = directory / "builds.log"
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def test_a_waiting_process_builds_another_artifact_then_loads(tmp_path: Path) -> None:
    fork = multiprocessing.get_context("fork")
    queue = fork.Queue()
    first = fork.Process(target=_get, args=(tmp_path, "a", queue))
    first.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "a-started").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    second = BuildOnce(tmp_path, _builders(tmp_path), ["a", "b"])
    assert second.get("a") == "value of a"  # waited for the first process, loaded its pickle
    first.join(10)
    assert queue.get(timeout=5) == "value of a"
    assert second.get("b") == "value of b"  # built while waiting, not again
    assert sorted(_builds(tmp_path)) == ["a", "b"]


def test_a_failed_build_is_retried_by_the_next_process(tmp_path: Path) -> None:
    def fail() -> str:
        raise RuntimeError("builder crashed")

    with pytest.raises(RuntimeError):
        BuildOnce(tmp_path, {"a": fail}, ["a"]).get("a")
    assert BuildOnce(tmp_path, {"a": lambda: "rebuilt"}, ["a"]).get("a") == "rebuilt"
    assert _builds(tmp_path) == ["a"]
