"""Build named artifacts once per test run, shared by every pytest-xdist worker.

Each artifact is pickled to ``<directory>/<name>.pickle`` by the first process that takes the
artifact's lock (``<name>.lock``, an ``fcntl.flock``); the other processes wait for the lock and
load the pickle. A process that finds its artifact being built elsewhere first builds, meanwhile,
another artifact the run needs that nobody is building, so two workers split the work instead of
one of them idling. A lock dies with its process: if a builder crashes, the next process to take
the lock finds no pickle and builds the artifact itself.

Each build appends a line to ``<directory>/builds.log`` (what, which process, how long).

Without ``fcntl`` (Windows) every process builds what it needs in its own directory.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

SHARED = fcntl is not None


class BuildOnce:
    def __init__(self, directory: Path, builders: dict[str, Callable[[], object]],
                 needed: Iterable[str]) -> None:
        self.directory = directory
        self.builders = builders
        self.needed = [name for name in builders if name in set(needed)]  # builders' order
        self._memo: dict[str, object] = {}
        directory.mkdir(parents=True, exist_ok=True)

    def get(self, name: str) -> object:
        if name not in self._memo:
            self._memo[name] = self._get(name)
        return self._memo[name]

    def _get(self, name: str) -> object:
        with self._lock(name, blocking=False) as mine:
            if mine:
                return self._load_or_build(name)
        # Another process is building it: build what nobody builds yet, then wait.
        for other in self.needed:
            if other != name and other not in self._memo and not self._pickle(other).exists():
                with self._lock(other, blocking=False) as mine:
                    if mine:
                        self._memo[other] = self._load_or_build(other)
        with self._lock(name, blocking=True):
            return self._load_or_build(name)

    def _pickle(self, name: str) -> Path:
        return self.directory / f"{name}.pickle"

    def _load_or_build(self, name: str) -> object:
        """Under the artifact's lock."""
        path = self._pickle(name)
        if path.exists():
            return pickle.loads(path.read_bytes())
        started = time.perf_counter()
        value = self.builders[name]()
        with open(self.directory / "builds.log", "a", encoding="utf-8") as log:
            log.write(f"{name} built by pid {os.getpid()} "
                      f"({os.environ.get('PYTEST_XDIST_WORKER', 'no xdist')}) "
                      f"in {time.perf_counter() - started:.1f} s\n")
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(pickle.dumps(value))
        os.replace(partial, path)
        return value

    @contextmanager
    def _lock(self, name: str, blocking: bool) -> Iterator[bool]:
        if fcntl is None:  # pragma: no cover - one process per directory, nothing to share
            yield True
            return
        fd = os.open(self.directory / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                acquired = False
            else:
                acquired = True
            yield acquired
        finally:
            os.close(fd)  # releases the lock


def shared_directory(tmp_path_factory, name: str) -> Path:
    """A directory all xdist workers of this run share (the run's own one without xdist)."""
    base = tmp_path_factory.getbasetemp()
    if SHARED and os.environ.get("PYTEST_XDIST_WORKER") and base.name.startswith("popen-"):
        # A local xdist worker's is <the run's basetemp>/popen-gwK/: the run's own, fresh
        # directory (pytest-N/ or a cleared --basetemp) is its parent.
        base = base.parent
    return base / name
