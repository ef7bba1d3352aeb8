"""A run's results, kept in the cache folder (the user's, outside the project): a re-run over
the same files, with the same tool and options, replays them without parsing anything.

The key holds everything a result can depend on: the tool's code, the options that change
the output, and every file of the run (selected or context) by path, module name and content
hash. The plan is a function of the whole project's index, and colouring is whole-program,
so a change in any module can change any other module's decisions (a helper made async in
one module makes its callers elsewhere async): any change to any file, or a file added or
removed, is a new key and a full run (the index cache still spares the unchanged files' ast
reads). Finer reuse (per-file results keyed by the plan facts each file reads) is the next
step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .config import Config
from .index.cache import module_name_for, source_root
from .results import FileResult, Finding
from .sources import SourceFile

# Options that change no result (how the work is spread, where the cache is).
_NOT_IN_KEY = frozenset({"jobs", "cache_dir"})


@cache
def tool_version() -> str:
    """A hash of every module of the library (its rules, plan and index)."""
    digest = hashlib.blake2b(digest_size=16)
    root = Path(__file__).parent
    for file in sorted(root.rglob("*.py")):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def _canonical(value: object) -> str:
    if isinstance(value, frozenset | set):
        return repr(sorted(value, key=repr))
    return repr(value)


def run_key(sources: Iterable[SourceFile], context: Iterable[SourceFile], config: Config) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(tool_version().encode())
    for item in dataclasses.fields(config):
        if item.name not in _NOT_IN_KEY:
            digest.update(f"{item.name}={_canonical(getattr(config, item.name))}\0".encode())
    sources, context = list(sources), list(context)
    root = source_root([s.path for s in (*sources, *context)])  # names as the index gives them
    for role, files in (("selected", sources), ("context", context)):
        digest.update(role.encode() + b"\0")
        for source in files:
            content = source.digest or hashlib.blake2b(
                source.text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
            fields = (source.path, module_name_for(source.path, root), content, source.error or "",
                      str(source.error_line))
            digest.update("\0".join(fields).encode("utf-8", "surrogateescape") + b"\1")
    return digest.hexdigest()


@dataclass(frozen=True)
class _Stored:
    """One result as stored: its new text only where it changed."""

    path: str
    new_source: str | None
    findings: list[Finding]
    error: str | None
    error_line: int | None


@dataclass(frozen=True)
class Record:
    notes: list[str]
    results: list[_Stored]


def _file(folder: Path, key: str) -> Path:
    return folder / "runs" / key[:2] / f"{key}.pickle"


def load(folder: Path, key: str) -> Record | None:
    try:
        record = pickle.loads(_file(folder, key).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        return None
    return record if isinstance(record, Record) else None


def replay(record: Record, sources: Iterable[SourceFile]) -> list[FileResult]:
    """The stored results on fresh results of the files as read now (the same texts)."""
    fresh = {source.path: source for source in sources}
    results = []
    for stored in record.results:
        result = fresh[stored.path].new_result()
        if stored.new_source is not None:
            result.new_source = stored.new_source
        result.findings = list(stored.findings)
        result.error, result.error_line = stored.error, stored.error_line
        results.append(result)
    return results


def stored(result: FileResult) -> _Stored:
    """A result as stored, taken when the engine hands it over (the caller may change it
    afterwards: a failed write)."""
    return _Stored(result.path,
                   result.new_source if result.new_source != result.old_source else None,
                   list(result.findings), result.error, result.error_line)


def store(folder: Path, key: str, notes: list[str], results: list[_Stored]) -> None:
    """Keep a finished run's results; a run with a lost worker (a result that is not a
    function of its inputs) is not kept. Errors writing the cache are ignored."""
    if any(r.error and "worker process died" in r.error for r in results):
        return
    record = Record(list(notes), results)
    target = _file(folder, key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(record, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except (OSError, RecursionError, pickle.PicklingError):
        return
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
