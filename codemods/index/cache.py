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
from functools import partial
from pathlib import Path

from .. import todo, urls, workers
from ..deep import call_deep, compile_as_python_would
from ..rewrite import parts
from ..sources import SourceFile
from ..syntax import describe_syntax_error
from .indexer import index_source, index_tree
from .model import ModuleIndex

Indexed = ModuleIndex | tuple[str, int | None]  # an index, or (error, line)


def module_name_for(path: str, root: Path | None) -> str:
    """Dotted module name as Python imports the file, found by walking up through packages
    (`__init__.py`, or a folder without one inside a package: a namespace subpackage); ""
    for a path that names no file (`<string>`).

    A file in no regular package is named from `root` (the folder holding the run's code),
    its folders below it being namespace packages (PEP 420): `repository/jobs.py` is
    `repository.jobs`, not `jobs`, so `models/jobs.py` beside it stays another module. A
    folder whose name is not an identifier cannot be imported through, so its files are
    named from it. The top of a regular package is taken to be on sys.path, as is usual.
    """
    if not path or path.startswith("<"):
        return ""
    file = Path(os.path.realpath(path))  # never raises on a symbolic link loop
    parts = [] if file.stem == "__init__" else [file.stem]
    folder = file.parent
    in_package = False
    while True:
        if (folder / "__init__.py").exists():
            in_package = True
        elif not ((folder.parent / "__init__.py").exists() or (
                not in_package and root is not None and root in folder.parents
                and folder.name.isidentifier())):
            break
        parts.append(folder.name)
        folder = folder.parent
    return ".".join(reversed(parts))


def source_root(paths: list[str]) -> Path | None:
    """The folder holding every file of the run (the files named `<...>` aside), from which
    the files outside regular packages are named."""
    folders = [os.path.dirname(os.path.realpath(p)) for p in paths if p and not p.startswith("<")]
    return Path(os.path.commonpath(folders)) if folders else None


def module_clashes(named: list[tuple[str, str]], selected: set[str]) -> dict[str, str]:
    """Path → why it is left out of the analysis, for files that share a module name with
    another file of the run (`selected`: the paths being migrated; the rest is context).

    Python itself settles one case: a package `web/__init__.py` wins over `web.py` in the
    same folder (that file is then only ever run as a script, and the analysis keys the name
    to the package). Otherwise, of copies such as `part-a/app/models.py` and
    `part-b/app/models.py`, the one being migrated is the module; where none is, the one in
    the tree of the files being migrated (the longest common folder) — the one their imports
    find. Two being migrated could be either at run time: both fail, saying so."""
    by_name: dict[str, list[str]] = {}
    for path, module in named:
        if module:
            by_name.setdefault(module, []).append(path)
    folders = {os.path.dirname(os.path.realpath(p)) for p in selected}
    clashes = {}
    for module, paths in by_name.items():
        if len(paths) == 1:
            continue
        packages = [p for p in paths if os.path.basename(p) == "__init__.py"]
        files = [p for p in paths if p not in packages]
        if len(packages) == 1 and all(  # `web.py` beside `web/`: Python imports the package
                os.path.dirname(os.path.dirname(os.path.realpath(packages[0])))
                == os.path.dirname(os.path.realpath(p)) for p in files):
            continue
        chosen = [p for p in paths if p in selected]
        if not chosen:
            nearness = {p: max((len(os.path.commonpath([os.path.realpath(p), f]))
                                for f in folders), default=0) for p in paths}
            chosen = [p for p in paths if nearness[p] == max(nearness.values())]
        for path in paths:
            if len(chosen) == 1 and path != chosen[0]:
                clashes[path] = f"another file, {chosen[0]}, is the module `{module}`"
            elif len(chosen) > 1:
                others = sorted(o for o in paths if o != path)
                clashes[path] = (
                    f"{', '.join(others)} {'is' if len(others) == 1 else 'are'} the module "
                    f"`{module}` too, so the tool cannot tell which file an import of "
                    f"`{module}` means; left unchanged: migrate each tree in a run of its own")
    return clashes


def _index_one(job: tuple[SourceFile, str], keep: bool = False) -> tuple[str, Indexed]:
    """A module's index, or (error, line); `keep`: in the process that reads the modules
    next, where a big module's `ast` is kept for that (`parts.keep_tree`)."""
    source, module = job
    try:
        return source.path, _index(source, module, keep)
    except SyntaxError as exc:
        return source.path, describe_syntax_error(source.text, exc)
    except ValueError as exc:  # e.g. NUL bytes
        return source.path, (f"cannot parse: {exc}", None)
    except RecursionError:
        return source.path, ("too deeply nested for Python to compile (its recursion limit); "
                             "left as it is", None)


def _index(source: SourceFile, module: str, keep: bool) -> ModuleIndex:
    try:
        index, tree = index_tree(source.text, source.path, module)
        if keep:
            parts.keep_tree(source.text, tree)
        return index
    except RecursionError:
        # What CPython compiles, the tool handles (in a deep thread); deeper code cannot
        # run anyway, and would take libcst minutes to parse.
        compile_as_python_would(source.text, source.path)
        return call_deep(index_source, source.text, source.path, module)


def index_all(sources: list[SourceFile], jobs: int, cache_dir: Path | None = None,
              selected: set[str] | None = None, keep_tree: bool = False
              ) -> dict[str, Indexed]:
    """Path → its index, or (error, line) for text that does not parse or is one module
    with another file (`module_clashes`; `selected`: the paths being migrated, default
    all). With `cache_dir`, indexes are kept by content hash, so a re-run only reads the
    files that changed. `keep_tree`: the caller reads the modules next (`read_module`) and
    drops what is kept for that (`parts.drop_kept_tree`)."""
    root = source_root([source.path for source in sources])
    named = [(source, module_name_for(source.path, root)) for source in sources]
    clashes = module_clashes([(source.path, module) for source, module in named],
                             {s.path for s in sources} if selected is None else selected)
    named = [job for job in named if job[0].path not in clashes]
    cache = _IndexCache(cache_dir) if cache_dir else None
    found = cache.load(named) if cache else {}
    missing = [job for job in named if job[0].path not in found]
    keep = keep_tree and workers.in_this_process(jobs, len(missing))
    fresh = dict(workers.map_in_workers(partial(_index_one, keep=True) if keep else _index_one,
                                        missing, jobs))
    if cache:
        cache.store(missing, fresh)
    return {**found, **fresh, **{path: (why, None) for path, why in clashes.items()}}


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
