"""Indexing every file of a run, in worker processes for big runs, with an on-disk cache.

This is the side that knows the file system: it names each file's module (by its packages)
before handing the text to the pure `index_source`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from .. import todo, urls, workers
from ..deep import call_deep, compile_as_python_would
from ..sources import SourceFile
from ..syntax import describe_syntax_error
from .indexer import index_source
from .model import ModuleIndex

Indexed = ModuleIndex | tuple[str, int | None]  # an index, or (error, line)


def module_name_for(path: str) -> str:
    """Dotted module name, found by walking up through packages (`__init__.py`, or a folder
    without one inside a package: a namespace subpackage); "" for a path that names no file
    (`<string>`)."""
    if not path or path.startswith("<"):
        return ""
    file = Path(os.path.realpath(path))  # never raises on a symbolic link loop
    parts = [] if file.stem == "__init__" else [file.stem]
    folder = file.parent
    while (folder / "__init__.py").exists() or (folder.parent / "__init__.py").exists():
        parts.append(folder.name)
        folder = folder.parent
    return ".".join(reversed(parts))


def _index_one(job: tuple[SourceFile, str]) -> tuple[str, Indexed]:
    source, module = job
    try:
        return source.path, _index(source, module)
    except SyntaxError as exc:
        return source.path, describe_syntax_error(source.text, exc)
    except ValueError as exc:  # e.g. NUL bytes
        return source.path, (f"cannot parse: {exc}", None)
    except RecursionError:
        return source.path, ("too deeply nested for Python to compile (its recursion limit); "
                             "left as it is", None)


def _index(source: SourceFile, module: str) -> ModuleIndex:
    try:
        return index_source(source.text, source.path, module)
    except RecursionError:
        # What CPython compiles, the tool handles (in a deep thread); deeper code cannot
        # run anyway, and would take libcst minutes to parse.
        compile_as_python_would(source.text, source.path)
        return call_deep(index_source, source.text, source.path, module)


def index_all(sources: list[SourceFile], jobs: int, cache_dir: Path | None = None
              ) -> dict[str, Indexed]:
    """Path → its index, or (error, line) for text that does not parse. With `cache_dir`,
    indexes are kept by content hash, so a re-run only reads the files that changed."""
    named = [(source, module_name_for(source.path)) for source in sources]
    cache = _IndexCache(cache_dir) if cache_dir else None
    found = cache.load(named) if cache else {}
    missing = [job for job in named if job[0].path not in found]
    fresh = dict(workers.map_in_workers(_index_one, missing, jobs))
    if cache:
        cache.store(missing, fresh)
    return {**found, **fresh}


def _code_version() -> str:
    """A hash of the code an index is computed with: this package, `urls.py` and `todo.py`
    (suppression comments)."""
    files = sorted(Path(__file__).parent.glob("*.py")) + [Path(urls.__file__),
                                                          Path(todo.__file__)]
    digest = hashlib.blake2b(digest_size=8)
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


class _IndexCache:
    """Pickled module indexes named by a hash of the indexing code, the path, the module name
    (adding a package's `__init__.py` renames its modules without changing their text) and
    the text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.version = _code_version()

    def _file(self, source: SourceFile, module: str) -> Path:
        # a path (and so a module name) may hold bytes that are not UTF-8: surrogateescape
        named = f"{self.version}\0{source.path}\0{module}\0".encode("utf-8", "surrogateescape")
        key = hashlib.blake2b(named + source.text.encode("utf-8", "surrogatepass"),
                              digest_size=16).hexdigest()
        return self.folder / key[:2] / f"{key}.pickle"

    def load(self, named: list[tuple[SourceFile, str]]) -> dict[str, ModuleIndex]:
        found = {}
        for source, module in named:
            try:
                found[source.path] = pickle.loads(self._file(source, module).read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
                continue  # not cached (or unreadable): index it again
        return found

    def store(self, named: list[tuple[SourceFile, str]], indexes: dict[str, Indexed]) -> None:
        for source, module in named:
            value = indexes.get(source.path)
            if not isinstance(value, ModuleIndex):
                continue
            target = self._file(source, module)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            except OSError:
                return  # a read-only tree: run without the cache
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, target)
            except (OSError, RecursionError, pickle.PicklingError):
                return  # a full disk, or an index too deep to pickle: not cached
            finally:  # also when interrupted: no temp file left in the cache
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
