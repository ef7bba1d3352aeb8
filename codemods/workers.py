"""Running the per-file work in worker processes, or in this process for small runs.

Workers are forked after the project index and plan exist, so they share them without
copying; each keeps its files' trees between the local pass and the colouring pass. This
module only carries work and answers: the engine decides each round and sends the run
state it decided (a small value; each worker derives its plan from it).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Protocol, TypeVar

from .analysis import Plan, RunState
from .config import Config
from .index import ModuleIndex, index_source
from .index import indexer as index_module
from .passes import Job, LocalOutcome
from .results import FileResult
from .sources import SourceFile

# Below this many files a worker's start-up costs more than it saves.
MIN_FILES_PER_WORKER = 40


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _fork_context():
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: run in this process
        return None


def _workers(jobs: int, files: int) -> int:
    return max(1, min(jobs, files // MIN_FILES_PER_WORKER)) if _fork_context() else 1


def _index_one(source: SourceFile) -> tuple[str, ModuleIndex | tuple[str, int | None]]:
    try:
        return source.path, index_source(source.text, source.path)
    except SyntaxError as exc:
        return source.path, (f"syntax error: {exc.msg}", exc.lineno)
    except ValueError as exc:  # e.g. NUL bytes
        return source.path, (f"cannot parse: {exc}", None)
    except RecursionError:  # an expression nested deeper than Python's recursion limit
        return source.path, ("too deeply nested to analyse (Python's recursion limit)", None)


def index_all(sources: list[SourceFile], jobs: int, cache_dir: Path | None = None
              ) -> dict[str, ModuleIndex | tuple[str, int | None]]:
    """Path → its index, or (error, line) for text that does not parse. With `cache_dir`,
    indexes are kept by content hash, so a re-run only reads the files that changed."""
    cache = _IndexCache(cache_dir) if cache_dir else None
    found = cache.load(sources) if cache else {}
    missing = [s for s in sources if s.path not in found]
    workers = _workers(jobs, len(missing))
    if workers == 1:
        fresh = dict(map(_index_one, missing))
    else:
        with _fork_context().Pool(workers) as pool:
            fresh = dict(pool.imap_unordered(_index_one, missing, chunksize=32))
    if cache:
        cache.store(missing, fresh)
    return {**found, **fresh}


class _IndexCache:
    """Pickled module indexes named by a hash of the indexer's code, the path and the text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.version = hashlib.blake2b(Path(index_module.__file__).read_bytes(),
                                       digest_size=8).hexdigest()

    def _file(self, source: SourceFile) -> Path:
        key = hashlib.blake2b(f"{self.version}\0{source.path}\0".encode() + source.text.encode(
            "utf-8", "surrogatepass"), digest_size=16).hexdigest()
        return self.folder / key[:2] / f"{key}.pickle"

    def load(self, sources: list[SourceFile]) -> dict[str, ModuleIndex]:
        found = {}
        for source in sources:
            try:
                found[source.path] = pickle.loads(self._file(source).read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
                continue  # not cached (or unreadable): index it again
        return found

    def store(self, sources: list[SourceFile], indexes: dict) -> None:
        for source in sources:
            value = indexes.get(source.path)
            if not isinstance(value, ModuleIndex):
                continue
            target = self._file(source)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, target)
            except OSError:
                return  # a read-only tree: run without the cache


class Rewriter(Protocol):
    """The per-file passes for a share of the files, keeping their trees between rounds."""

    def local(self, jobs: Iterable[Job]) -> Iterator[LocalOutcome]: ...

    def redo(self, state: RunState, paths: set[str]) -> Iterator[LocalOutcome]: ...

    def colour(self, state: RunState, late: Iterable[Job]) -> Iterator[FileResult]: ...


@dataclass(frozen=True)
class Lost:
    """A file whose worker process died: it fails, the run goes on."""

    result: FileResult


class Transport(Protocol):
    """The three rounds over the run's files, wherever they run."""

    def local(self) -> Iterator[LocalOutcome | Lost]: ...

    def redo(self, state: RunState, paths: set[str]) -> Iterator[LocalOutcome | Lost]: ...

    def colour(self, state: RunState, late: list[Job]) -> Iterator[FileResult | Lost]: ...

    def close(self) -> None: ...


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

    def colour(self, state: RunState, late: list[Job]) -> Iterator[FileResult | Lost]:
        yield from self.rewriter.colour(state, late)

    def close(self) -> None:
        return None  # no process to wait for


def _worker(rewriter_factory: Callable[[Plan, Config], Rewriter], plan: Plan, config: Config,
            share: list[Job], conn: Connection) -> None:
    """A worker's rounds; `None` ends each round's answers."""
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


_Answer = TypeVar("_Answer", LocalOutcome, FileResult)


class _InWorkers:
    """The rounds in forked workers, each keeping a share of the files."""

    def __init__(self, rewriter_factory: Callable[[Plan, Config], Rewriter], plan: Plan,
                 config: Config, jobs: list[Job], workers: int) -> None:
        context = _fork_context()
        self.connections: dict[Connection, tuple[BaseProcess, list[Job]]] = {}
        for share in (jobs[i::workers] for i in range(workers)):
            parent, child = context.Pipe()
            process = context.Process(target=_worker, daemon=True,
                                      args=(rewriter_factory, plan, config, share, child))
            process.start()
            child.close()
            self.connections[parent] = (process, share)

    def local(self) -> Iterator[LocalOutcome | Lost]:
        return self._receive(LocalOutcome)

    def redo(self, state: RunState, paths: set[str]) -> Iterator[LocalOutcome | Lost]:
        for conn in self.connections:
            conn.send(("redo", state, paths))
        return self._receive(LocalOutcome)

    def colour(self, state: RunState, late: list[Job]) -> Iterator[FileResult | Lost]:
        workers = len(self.connections)
        for i, conn in enumerate(self.connections):
            conn.send(("colour", state, late[i::workers]))
            process, share = self.connections[conn]
            self.connections[conn] = (process, [*share, *late[i::workers]])
        return self._receive(FileResult)

    def close(self) -> None:
        for process, _ in self.connections.values():
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
