"""Running the per-file work in worker processes, or in this process for small runs.

Workers are forked after the project index and plan exist, so they share them without
copying; each keeps its files' trees between the local pass and the colouring pass. This
module only carries work and answers: the engine decides each round and sends the run
state it decided (a small value; each worker derives its plan from it).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Protocol, TypeVar

from .analysis import Plan, RunState
from .config import Config
from .passes import Coloured, Job, LocalOutcome
from .results import FileResult

# Below this many files a worker's start-up costs more than it saves.
MIN_FILES_PER_WORKER = 40


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _fork_context():
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: run in this process
        return None


_PR_SET_PDEATHSIG = 1  # prctl(2), Linux


# Held back while workers are forked (see `_interrupts_held`).
_HELD = frozenset({signal.SIGINT, signal.SIGTERM})


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back while workers are forked: a child inherits the blocked
    signals and sets its own handling before letting them through (`_exit_with_parent`), so
    one that arrives while it starts cannot print a traceback; nor can the main process's
    handler interrupt the pool half set up (a multiprocessing finalizer half made printed
    `AttributeError: 'Finalize' object has no attribute '_key'` at exit). The main process
    gets the signal once this ends."""
    held = hasattr(signal, "pthread_sigmask")
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def _exit_with_parent(parent: int) -> None:
    """In a worker, first: end when the main process ends, however it ends (SIGTERM, kill
    -9), and leave Ctrl-C to it (the terminal sends SIGINT to every process of the group; the
    main process answers it once and its workers go with it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the main process's handler
    if hasattr(signal, "pthread_sigmask"):  # held back while it was forked
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    if sys.platform.startswith("linux"):
        try:
            asked = ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            asked = -1
        if asked == 0:
            if os.getppid() != parent:  # it ended before the call
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Where the kernel cannot be asked to: poll."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _workers(jobs: int, files: int) -> int:
    return max(1, min(jobs, files // MIN_FILES_PER_WORKER)) if _fork_context() else 1


def in_this_process(jobs: int, items: int) -> bool:
    """Whether `map_in_workers` over that many items runs in this process."""
    return _workers(jobs, items) == 1


_Item = TypeVar("_Item")
_Mapped = TypeVar("_Mapped")


def map_in_workers(function: Callable[[_Item], _Mapped], items: list[_Item],
                   jobs: int) -> list[_Mapped]:
    """`function` over `items`, in up to `jobs` worker processes when there are enough items
    (results in any order)."""
    workers = _workers(jobs, len(items))
    if workers == 1:  # (as `in_this_process` says)
        return list(map(function, items))
    with _interrupts_held():
        pool = _fork_context().Pool(workers, initializer=_exit_with_parent,
                                    initargs=(os.getpid(),))
    with pool:
        return list(pool.imap_unordered(function, items, chunksize=32))


class Rewriter(Protocol):
    """The per-file passes for a share of the files, keeping their trees between rounds."""

    def local(self, jobs: Iterable[Job]) -> Iterator[LocalOutcome]: ...

    def redo(self, state: RunState, paths: set[str]) -> Iterator[LocalOutcome]: ...

    def colour(self, state: RunState, late: Iterable[Job]) -> Iterator[Coloured]: ...


@dataclass(frozen=True)
class Lost:
    """A file whose worker process died: it fails, the run goes on."""

    result: FileResult


class Transport(Protocol):
    """The three rounds over the run's files, wherever they run."""

    def local(self) -> Iterator[LocalOutcome | Lost]: ...

    def redo(self, state: RunState, paths: set[str]) -> Iterator[LocalOutcome | Lost]: ...

    def colour(self, state: RunState, late: list[Job]) -> Iterator[Coloured | Lost]: ...

    def close(self) -> None: ...

    def stop(self) -> None: ...


def start(rewriter_factory: Callable[[Plan, Config], Rewriter], plan: Plan, config: Config,
          jobs: list[Job]) -> Transport:
    """The rounds over `jobs`: in this process, or in worker processes for a big run."""
    workers = _workers(config.jobs, len(jobs))
    if workers == 1:
        return _Here(rewriter_factory(plan, config), jobs)
    return _InWorkers(rewriter_factory, plan, config, jobs, workers)


class _Here:
    """The rounds in this process (small runs, or no fork on this platform)."""

    def __init__(self, rewriter: Rewriter, jobs: list[Job]) -> None:
        self.rewriter, self.jobs = rewriter, jobs

    def local(self) -> Iterator[LocalOutcome | Lost]:
        yield from self.rewriter.local(self.jobs)

    def redo(self, state: RunState, paths: set[str]) -> Iterator[LocalOutcome | Lost]:
        yield from self.rewriter.redo(state, paths)

    def colour(self, state: RunState, late: list[Job]) -> Iterator[Coloured | Lost]:
        yield from self.rewriter.colour(state, late)

    def close(self) -> None:
        return None  # no process to wait for

    def stop(self) -> None:
        return None


def _worker(rewriter_factory: Callable[[Plan, Config], Rewriter], plan: Plan, config: Config,
            share: list[Job], conn: Connection, parent: int) -> None:
    """A worker's rounds; `None` ends each round's answers."""
    _exit_with_parent(parent)
    rewriter = rewriter_factory(plan, config)
    for outcome in rewriter.local(share):
        conn.send(outcome)
    conn.send(None)
    command, state, payload = conn.recv()
    if command == "redo":
        for outcome in rewriter.redo(state, payload):
            conn.send(outcome)
        conn.send(None)
        command, state, payload = conn.recv()
    for result in rewriter.colour(state, payload):
        conn.send(result)
    conn.send(None)
    conn.close()


_Answer = TypeVar("_Answer", LocalOutcome, Coloured)


class _InWorkers:
    """The rounds in forked workers, each keeping a share of the files."""

    def __init__(self, rewriter_factory: Callable[[Plan, Config], Rewriter], plan: Plan,
                 config: Config, jobs: list[Job], workers: int) -> None:
        context = _fork_context()
        self.connections: dict[Connection, tuple[BaseProcess, list[Job]]] = {}
        for share in (jobs[i::workers] for i in range(workers)):
            parent, child = context.Pipe()
            process = context.Process(target=_worker, daemon=True,
                                      args=(rewriter_factory, plan, config, share, child,
                                            os.getpid()))
            with _interrupts_held():
                process.start()
            child.close()
            self.connections[parent] = (process, share)

    def local(self) -> Iterator[LocalOutcome | Lost]:
        return self._receive(LocalOutcome)

    def redo(self, state: RunState, paths: set[str]) -> Iterator[LocalOutcome | Lost]:
        for conn in self.connections:
            conn.send(("redo", state, paths))
        return self._receive(LocalOutcome)

    def colour(self, state: RunState, late: list[Job]) -> Iterator[Coloured | Lost]:
        workers = len(self.connections)
        for i, conn in enumerate(self.connections):
            conn.send(("colour", state, late[i::workers]))
            process, share = self.connections[conn]
            self.connections[conn] = (process, [*share, *late[i::workers]])
        return self._receive(Coloured)

    def close(self) -> None:
        for process, _ in self.connections.values():
            process.join()

    def stop(self) -> None:
        """The run was abandoned (an exception, Ctrl-C): end the workers now."""
        for process, _ in self.connections.values():
            process.kill()
            process.join()

    def _receive(self, answer: type[_Answer]) -> Iterator[_Answer | Lost]:
        """Every worker's answers for one round; the files of a worker that died (and had
        not answered for them) are lost."""
        connections = self.connections
        open_connections = set(connections)
        reported: dict[Connection, set[str]] = {conn: set() for conn in connections}
        while open_connections:
            for conn in wait(list(open_connections)):
                try:
                    payload = conn.recv()
                except (EOFError, OSError):
                    open_connections.discard(conn)
                    yield from _lost(connections[conn][1], reported[conn])
                    continue
                if payload is None:  # the round's end
                    open_connections.discard(conn)
                    continue
                assert isinstance(payload, answer)  # each round has one kind of answer
                reported[conn].add(payload.path)
                yield payload


def _lost(share: Iterable[Job], reported: set[str]) -> Iterator[Lost]:
    for job in share:
        if job.result.path not in reported:
            result = job.result
            result.error = "internal error: a worker process died; the file was left unchanged"
            result.new_source = result.old_source
            yield Lost(result)
