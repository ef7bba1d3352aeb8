"""Running the per-file work in worker processes, or in this process for small runs.

Workers are forked after the project index and plan exist, so they share them without
copying; each keeps its files' trees between the local pass and the colouring pass, and only
the set of functions that became async travels between the two rounds.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

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


def _workers(jobs: int, files: int) -> int:
    return max(1, min(jobs, files // MIN_FILES_PER_WORKER)) if _fork_context() else 1


def map_in_workers(function: Callable[[Any], Any], items: list, jobs: int) -> list:
    """`function` over `items`, in up to `jobs` worker processes when there are enough items
    (results in any order)."""
    workers = _workers(jobs, len(items))
    if workers == 1:
        return list(map(function, items))
    with _fork_context().Pool(workers) as pool:
        return list(pool.imap_unordered(function, items, chunksize=32))


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
