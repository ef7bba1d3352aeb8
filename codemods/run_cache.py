"""A run's results, kept in the cache folder (the user's, outside the project): a re-run over
the same files, with the same tool and options, replays them without parsing anything.

The key holds everything a result can depend on: the tool's code, the options that change
the output, and every file of the run (selected or context) by path, module name and content
hash. The plan is a function of the whole project's index, and colouring is whole-program,
so a change in any module can change any other module's decisions (a helper made async in
one module makes its callers elsewhere async): any change to any file, or a file added or
removed, is a new key.

Such a run still reuses what it can, file by file: the last run with the same tool and
options left each file's `Trace` — what each of its stages asked the plan and what it gave
(`plan_questions`). An unchanged file whose questions the new plan answers alike keeps its
outcome without being parsed; the others are redone (`engine`).
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
from .passes import LocalOutcome
from .plan_questions import Questions
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


def options_key(config: Config) -> str:
    """The tool's code and the options that change results."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(tool_version().encode())
    for item in dataclasses.fields(config):
        if item.name not in _NOT_IN_KEY:
            digest.update(f"{item.name}={_canonical(getattr(config, item.name))}\0".encode())
    return digest.hexdigest()


def content_of(source: SourceFile) -> str:
    """The digest of a file's content (of its bytes where it was read from a file)."""
    return source.digest or hashlib.blake2b(
        source.text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def run_key(sources: Iterable[SourceFile], context: Iterable[SourceFile], config: Config) -> str:
    digest = hashlib.blake2b(options_key(config).encode(), digest_size=16)
    sources, context = list(sources), list(context)
    root = source_root([s.path for s in (*sources, *context)])  # names as the index gives them
    for role, files in (("selected", sources), ("context", context)):
        digest.update(role.encode() + b"\0")
        for source in files:
            fields = (source.path, module_name_for(source.path, root), content_of(source),
                      source.error or "", str(source.error_line))
            digest.update("\0".join(fields).encode("utf-8", "surrogateescape") + b"\1")
    return digest.hexdigest()


@dataclass(frozen=True)
class Stored:
    """One result as stored: its new text only where it changed."""

    path: str
    new_source: str | None
    findings: list[Finding]
    error: str | None
    error_line: int | None


@dataclass(frozen=True)
class Record:
    notes: list[str]
    results: list[Stored]


@dataclass
class Trace:
    """One file's stages in a run: what each asked the plan, and what it gave (the local
    pass's outcome; again under a state keeping more functions sync; the final result)."""

    content: str  # the file's content digest
    module: str
    selected: bool  # migrated (not context: only its calls of what became async change)
    options: str  # `options_key` of the configuration its passes had (a Pyramid project's
    # is the sync target's, whatever the run asked for)
    local: tuple[Questions, LocalOutcome] | None = None
    redo: tuple[Questions, LocalOutcome] | None = None
    colour: tuple[Questions, Stored] | None = None


def _file(folder: Path, key: str) -> Path:
    return folder / "runs" / key[:2] / f"{key}.pickle"


def _traces_file(folder: Path, config: Config) -> Path:
    return folder / "traces" / f"{options_key(config)}.pickle"


def _loaded(target: Path) -> object:
    try:
        return pickle.loads(target.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError,
            ImportError, IndexError):
        return None


def load(folder: Path, key: str) -> Record | None:
    found = _loaded(_file(folder, key))
    return found if isinstance(found, Record) else None


def load_traces(folder: Path, config: Config) -> dict[str, Trace]:
    """The traces finished runs with this tool and these options left, by path (each file's
    latest)."""
    found = _loaded(_traces_file(folder, config))
    return found if isinstance(found, dict) else {}


def replay(record: Record, sources: Iterable[SourceFile]) -> list[FileResult]:
    """The stored results on fresh results of the files as read now (the same texts)."""
    fresh = {source.path: source for source in sources}
    return [restored(stored, fresh[stored.path]) for stored in record.results]


def restored(stored: Stored, source: SourceFile) -> FileResult:
    """A stored result on a fresh result of the file as read now (the same text)."""
    result = source.new_result()
    if stored.new_source is not None:
        result.new_source = stored.new_source
    result.findings = list(stored.findings)
    result.error, result.error_line = stored.error, stored.error_line
    return result


def stored(result: FileResult) -> Stored:
    """A result as stored, taken when the engine hands it over (the caller may change it
    afterwards: a failed write)."""
    return Stored(result.path,
                   result.new_source if result.new_source != result.old_source else None,
                   list(result.findings), result.error, result.error_line)


def store(folder: Path, key: str, notes: list[str], results: list[Stored],
          config: Config, traces: dict[str, Trace]) -> None:
    """Keep a finished run's results, and its files' traces (the last run's only, per tool
    and options); a run with a lost worker (a result that is not a function of its inputs)
    is not kept. Errors writing the cache are ignored."""
    if any(r.error and "worker process died" in r.error for r in results):
        return
    _write(_file(folder, key), Record(list(notes), results))
    _write(_traces_file(folder, config), traces)


def _write(target: Path, value: object) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except (OSError, RecursionError, pickle.PicklingError):
        return
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
