"""Running the per-file work in worker processes, or in this process for small runs.

Workers are forked after the project index and plan exist, so they share them without
copying; each keeps its files' trees between the local pass and the colouring pass, and only
the set of functions that became async travels between the two rounds.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .index import ModuleIndex, index_source
from .index import indexer as index_module
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


def rewrite(rewriter_factory: Callable[..., Any], plan: Any, config: Any, jobs: list,
            late: Callable[[set], list], tick: Callable[[str], None]) -> Iterator[FileResult]:
    """Local pass over `jobs` (again for the files concerned when some functions must stay
    sync), colouring over the whole project, then the colouring pass over `jobs` and over
    `late(async_functions)`; yields each file's result as it is final."""
    workers = _workers(config.jobs, len(jobs))
    if workers == 1:
        yield from _rewrite_here(rewriter_factory(plan, config), plan, jobs, late, tick)
    else:
        yield from _rewrite_in_workers(rewriter_factory, plan, config, jobs, late, tick,
                                       workers)


class _Progress:
    """What the local pass found, per file (a redone file replaces its earlier answer)."""

    def __init__(self) -> None:
        self.io: dict[str, set] = {}
        self.unconverted: dict[str, set] = {}

    def add(self, made_async: set, unconverted: set, path: str) -> None:
        self.io[path], self.unconverted[path] = made_async, unconverted

    def all_io(self) -> set:
        return set().union(*self.io.values())

    def keep_sync(self, plan: Any, jobs: list) -> tuple[set, set[str]]:
        """Functions to keep sync behind run_sync, and the files to redo for that."""
        keep = plan.keepable_sync(set().union(*self.unconverted.values()), self.all_io())
        if not keep:
            return set(), set()
        modules = {module for module, _ in keep} | {
            caller.module for ref in keep for caller, _ in plan.callers(ref)}
        return keep, {job.result.path for job in jobs if job.ix.module in modules}


def _rewrite_here(rewriter: Any, plan: Any, jobs: list, late: Callable[[set], list],
                  tick: Callable[[str], None]) -> Iterator[FileResult]:
    progress = _Progress()
    for failed, made_async, unconverted, path in rewriter.local(jobs):
        tick(path)
        progress.add(made_async, unconverted, path)
        if failed is not None:
            yield failed
    keep, paths = progress.keep_sync(plan, jobs)
    if keep:
        for failed, made_async, unconverted, path in rewriter.redo(keep, paths):
            progress.add(made_async, unconverted, path)
            if failed is not None:
                yield failed
    async_functions = plan.colour(progress.all_io())
    for result in rewriter.colour(async_functions, late(async_functions)):
        tick(result.path)
        yield result


def _worker(rewriter_factory: Callable[..., Any], plan: Any, config: Any, share: list,
            conn: Connection) -> None:
    rewriter = rewriter_factory(plan, config)
    for item in rewriter.local(share):
        conn.send(("local", item))
    conn.send(("local-done", None))
    command, *payload = conn.recv()
    if command == "redo":
        for item in rewriter.redo(*payload):
            conn.send(("local", item))
        conn.send(("local-done", None))
        command, *payload = conn.recv()
    async_functions, late = payload
    for result in rewriter.colour(async_functions, late):
        conn.send(("result", result))
    conn.send(("done", None))
    conn.close()


def _rewrite_in_workers(rewriter_factory: Callable[..., Any], plan: Any, config: Any,
                        jobs: list, late: Callable[[set], list], tick: Callable[[str], None],
                        workers: int) -> Iterator[FileResult]:
    context = _fork_context()
    shares = [jobs[i::workers] for i in range(workers)]
    connections: dict[Connection, tuple[Any, list]] = {}
    for share in shares:
        parent, child = context.Pipe()
        process = context.Process(target=_worker, daemon=True,
                                  args=(rewriter_factory, plan, config, share, child))
        process.start()
        child.close()
        connections[parent] = (process, share)
    progress = _Progress()

    def local_round(first: bool) -> Iterator[FileResult]:
        for kind, payload, share in _receive(connections, "local-done"):
            if kind == "local":
                failed, made_async, unconverted, path = payload
                if first:
                    tick(path)
                progress.add(made_async, unconverted, path)
                if failed is not None:
                    yield failed
            else:  # the worker died: its files fail, the run goes on
                yield from _lost(share, payload)

    yield from local_round(True)
    keep, paths = progress.keep_sync(plan, jobs)
    if keep:
        plan.keep_sync |= keep
        plan.legacy |= keep
        for conn in connections:
            conn.send(("redo", keep, paths))
        yield from local_round(False)
    async_functions = plan.colour(progress.all_io())
    extra = late(async_functions)
    for i, conn in enumerate(connections):
        conn.send(("colour", async_functions, extra[i::workers]))
        process, share = connections[conn]
        connections[conn] = (process, [*share, *extra[i::workers]])
    for kind, payload, share in _receive(connections, "done"):
        if kind == "result":
            tick(payload.path)
            yield payload
        else:
            yield from _lost(share, payload)
    for process, _ in connections.values():
        process.join()


def _receive(connections: dict[Connection, tuple[Any, list]],
             end: str) -> Iterator[tuple[str, Any, list]]:
    """Messages from every worker until each says `end`; ("lost", reported paths, share) for a
    worker that died."""
    open_connections = set(connections)
    reported: dict[Connection, set[str]] = {conn: set() for conn in connections}
    while open_connections:
        for conn in wait(list(open_connections)):
            try:
                kind, payload = conn.recv()
            except (EOFError, OSError):
                open_connections.discard(conn)
                yield "lost", reported[conn], connections[conn][1]
                continue
            if kind == end:
                open_connections.discard(conn)
                continue
            reported[conn].add(payload[-1] if kind == "local" else payload.path)
            yield kind, payload, connections[conn][1]


def _lost(share: Iterable, reported: set[str]) -> Iterator[FileResult]:
    for job in share:
        if job.result.path not in reported:
            result = job.result
            result.error = "internal error: a worker process died; the file was left unchanged"
            result.new_source = result.old_source
            yield result
