"""Finding, reading and writing source files: bytes in, bytes out, nothing lost.

Encoding (PEP 263 cookie or UTF-8), a UTF-8 BOM, the newline style, the mode, owner and group
survive a rewrite; writes are atomic (temp file in the same folder + rename), go through
symbolic links, keep hard links, and refuse read-only files and files changed since they were
read. What cannot be read or written is a value (`Skipped`, `NotWritten`), never a crash.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fnmatch
import hashlib
import io
import os
import re
import stat
import tempfile
import time
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .results import FileResult
from .todo import suppression_warnings

# Folders that never hold the project's own source, at any depth.
SKIP_DIRS = frozenset({
    "__pycache__", "node_modules", "site-packages", "dist-packages", "__pypackages__",
})
# Build output, skipped only directly under a project root (a folder with one of
# PROJECT_MARKERS, or the folder the run was given): `pkg/build/` deeper down is a package
# like any other.
BUILD_DIRS = frozenset({"build", "dist"})
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
# A file without any of these bytes cannot hold SQLAlchemy work (it is still indexed).
_MARKERS = (b"sqlalchemy", b"sqlmodel", b"query", b"ession", b"engine", b"create_all")


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)


def content_digest(data: bytes) -> str:
    """What a file held when it was read: the write checks the file still holds it."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class SourceFile:
    path: str
    text: str = ""
    encoding: str = "utf-8"
    has_bom: bool = False
    newline: str = "\n"
    error: str | None = None
    error_line: int | None = None
    may_need_work: bool = True
    digest: str | None = None  # of the bytes read (None: not read from a file)

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        return cls(path=path, text=text, newline="\r\n" if "\r\n" in text else "\n",
                   may_need_work=any(m.decode() in text for m in _MARKERS))

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        try:
            data = _read_regular_file(path)
        except OSError as exc:
            return cls(path=str(path), error=f"cannot read: {_os_reason(exc)}")
        return cls.from_bytes(str(path), data)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> SourceFile:
        """A file's text from its bytes (standard input: `migrate -`), decoded as CPython
        would: coding cookie or UTF-8, BOM."""
        has_bom = data.startswith(b"\xef\xbb\xbf")
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            if not str(exc).startswith(("unknown encoding", "encoding problem")):
                encoding = "utf-8"  # no cookie: decoding below says where it breaks
            else:  # a coding line CPython refuses: the file cannot run as it is
                cookie = _COOKIE.search(data, 0, len(b"".join(data.splitlines(True)[:2])))
                line = data[: cookie.start()].count(b"\n") + 1 if cookie else 1
                return cls(path=name, error=f"{exc} (in the coding line)", error_line=line)
        encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        body = data[3:] if has_bom else data
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            line = body[: exc.start].count(b"\n") + 1
            return cls(path=name, error=f"cannot decode as {encoding}: {exc.reason} "
                                        f"(byte 0x{body[exc.start]:02x})", error_line=line)
        except LookupError:
            return cls(path=name, error=f"unknown encoding {encoding!r}")
        return cls(path=name, text=text, encoding=encoding, has_bom=has_bom,
                   newline="\r\n" if b"\r\n" in data else "\n",
                   may_need_work=any(m in data for m in _MARKERS), digest=content_digest(data))

    def new_result(self) -> FileResult:
        return FileResult(path=self.path, old_source=self.text, new_source=self.text,
                          error=self.error, error_line=self.error_line, encoding=self.encoding,
                          newline=self.newline, has_bom=self.has_bom, digest=self.digest,
                          warnings=suppression_warnings(self.text))


_FOLDER_REASONS = {"__pycache__": "bytecode cache", "node_modules": "installed packages",
                   "site-packages": "installed packages", "dist-packages": "installed packages",
                   "__pypackages__": "installed packages"}


@dataclass(frozen=True)
class Skipped:
    """A path discovery left out, and why. `failed`: a file that should be read but cannot be
    (it fails the run); `verbose`: left out by the skip rules (said only with -v)."""

    path: str
    reason: str
    failed: bool = False
    verbose: bool = False


def real_path(path: str | Path) -> Path:
    """The path through its symbolic links (as far as they lead: never raises on a loop)."""
    return Path(os.path.realpath(path))


def is_project_root(folder: Path) -> bool:
    return any((folder / marker).exists() for marker in PROJECT_MARKERS)


def _skip_reason(folder: Path, root: Path) -> str | None:
    """Why discovery (from `root`) does not enter `folder`, or None."""
    name = folder.name
    if name.startswith("."):
        return "hidden folder"
    if name in _FOLDER_REASONS:
        return _FOLDER_REASONS[name]
    if name.endswith(".egg-info"):
        return "packaging metadata"
    if (folder / "pyvenv.cfg").exists():
        return "virtualenv (it has pyvenv.cfg)"
    if (name in BUILD_DIRS and (folder.parent == root or is_project_root(folder.parent))
            and not (folder / "__init__.py").exists()):
        return "build output at the project root"
    return None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex: `**/` any folders (none too), `*` and `?` within one name."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape("["))
                i += 1
            else:
                out.append("[" + pattern[i + 1:end].replace("!", "^", 1) + "]")
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + "(?:/.*)?")  # a folder excludes what is below it


def excluded(relative: str, pattern: str) -> bool:
    """`exclude` as in .gitignore: `relative` is a path from the project root (posix); a
    pattern without a slash (`migrations`, `*_pb2.py`) matches a name at any depth, one with
    a slash (`src/app/migrations/`, `migrations/*`, `**/legacy/*.py`) from the root."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if not pattern:
        return False
    if "/" not in pattern.rstrip("/"):
        name = pattern.rstrip("/")
        return any(fnmatch.fnmatchcase(part, name) for part in relative.split("/"))
    return _glob_regex(pattern.strip("/")).fullmatch(relative) is not None


def is_excluded(path: Path, root: Path, excludes: Iterable[str]) -> bool:
    """Whether `excludes` (globs from `root`, see `excluded`) leave `path` out."""
    if not excludes:
        return False
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
        relative = Path(relative).as_posix() if not relative.startswith("..") else path.name
    return any(excluded(relative, pattern) for pattern in excludes)


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return exc.strerror or str(exc)


_NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _not_regular(mode: int) -> str:
    kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a file")
    return f"not a regular file ({kind})"


def _file_problem(path: Path) -> Skipped | None:
    """Why a file found cannot be migrated, or None (it is a regular file)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.lexists(path):
            return Skipped(str(path), "cannot read: broken symbolic link", failed=True)
        if exc.errno == errno.ENOENT:
            return Skipped(str(path), "no such file or directory", failed=True)
        return Skipped(str(path), f"cannot read: {_os_reason(exc)}", failed=True)
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else Skipped(
        str(path), _not_regular(mode))


def _read_regular_file(path: Path) -> bytes:
    """The file's bytes; opening does not block on a named pipe, which is refused."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, _not_regular(mode))
        return handle.read()


def discover(paths: Iterable[Path], excludes: Iterable[str] = (), base: Path | None = None
             ) -> Iterator[Path | Skipped]:
    """Python files under `paths`, sorted (with the `.pyi` stub beside a module), and what
    was left out: a path that cannot be read (missing, a symbolic link loop: `failed`), a
    file that is not a regular file (a named pipe), and with `verbose` the folders the skip
    rules leave out (virtualenvs, hidden folders, build output at a project root, caches)
    and the excluded paths. `excludes` are
    globs relative to `base` (the project root; default: each of `paths`), as in .gitignore."""
    excludes = tuple(excludes)
    seen: set[str] = set()  # real paths: `a.py` and `/abs/a.py` (or a link to it) are one file

    def first_time(path: Path) -> bool:
        real = os.path.realpath(path)
        if real in seen:
            return False
        seen.add(real)
        return True

    for root in paths:
        problem = _file_problem(root)
        if problem is not None:
            yield problem
            continue
        if not root.is_dir():
            if first_time(root):
                yield root
            stub = root.with_name(root.name + "i")  # `mod.pyi` beside a `mod.py` given
            if root.suffix == ".py" and stub.is_file() and first_time(stub):
                yield stub
            continue
        errors: list[OSError] = []
        found: list[Path | Skipped] = []
        for folder, dirs, files in os.walk(root, onerror=errors.append):
            here = Path(folder)
            kept = []
            for name in sorted(dirs):
                reason = _skip_reason(here / name, root) or (
                    "excluded" if is_excluded(here / name, base or root, excludes) else None)
                if reason is None:
                    kept.append(name)
                else:
                    found.append(Skipped(f"{here / name}{os.sep}", reason, verbose=True))
            dirs[:] = kept
            names = set(files)
            for name in files:
                # a stub is migrated with its module (its signatures follow the module's)
                if not (name.endswith(".py") or name.endswith(".pyi") and name[:-1] in names):
                    continue
                if is_excluded(here / name, base or root, excludes):
                    found.append(Skipped(str(here / name), "excluded", verbose=True))
                else:
                    found.append(_file_problem(here / name) or here / name)
        found.extend(Skipped(str(exc.filename), f"cannot read folder: {_os_reason(exc)}",
                             failed=True) for exc in errors)
        for item in sorted(found, key=lambda f: str(f.path if isinstance(f, Skipped) else f)):
            if isinstance(item, Skipped):
                yield item
            elif first_time(item):
                yield item


def read_sources(found: Iterable[Path | Skipped]) -> tuple[list[SourceFile], list[Skipped]]:
    """The files discovery found, read (one that cannot be read fails), and what it left
    out (said, without failing the run)."""
    sources: list[SourceFile] = []
    skipped: list[Skipped] = []
    for item in found:
        if isinstance(item, Path):
            sources.append(SourceFile.read(item))
        elif item.failed:
            sources.append(SourceFile(path=item.path, error=item.reason))
        else:
            skipped.append(item)
    return sources, skipped


def find_project_root(paths: list[Path]) -> Path | None:
    """The nearest folder at or above the paths holding pyproject.toml or .git."""
    if not paths:
        return None
    start = real_path(paths[0])
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() or (candidate / ".git").exists():
            return candidate
    return None


# What the tool writes into a file whose encoding lacks a character of its own text (the
# arrows and dashes of TODO markers in a `# coding: ascii` or `latin-1` file).
_ASCII_FALLBACKS = {"\u2192": "->", "\u2190": "<-", "\u2026": "...", "\u2014": "--",
                    "\u2013": "-", "\u00a7": "S.", "\u2265": ">=", "\u2264": "<=",
                    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start:error.end]
    return "".join(_ASCII_FALLBACKS.get(c, f"\\u{ord(c):04x}") for c in bad), error.end


codecs.register_error("sqla-asyncify-fallback", _fallback)


def fit_encoding(text: str, encoding: str) -> str:
    """`text` with the characters `encoding` cannot hold spelt in ASCII. Every character of a
    file as read is encodable, so only text the tool inserted (comments) changes."""
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "sqla-asyncify-fallback").decode(encoding)
    except LookupError:
        return text
    return text


def encoded(result: FileResult) -> bytes:
    """The new text as the file's bytes: its encoding (text the tool inserted spelt in ASCII
    where the encoding lacks a character) and its BOM."""
    data = result.new_source.encode(result.encoding, "sqla-asyncify-fallback")
    return b"\xef\xbb\xbf" + data if result.has_bom else data


class NotWritten(Exception):
    """A file `write_atomic` left as it was; the message says why (for the user)."""


STALE_TEMP_SECONDS = 60  # a temp file this old belongs to no write still running


def write_atomic(result: FileResult) -> None:
    """Replace the file with the new text, keeping encoding, BOM, newlines, mode, owner and
    group; through a symbolic link, the file it names. Raises `NotWritten` (the file is as it
    was) when the file is read-only, changed since it was read, or cannot be written.

    The new text goes to a temp file in the same folder first (so a full disk or a read-only
    folder fails before the file is touched), which then replaces the file. A file with hard
    links, or whose owner the temp file cannot be given, is rewritten in place instead, so
    every link and the owner stay; on a failure there the old bytes are written back."""
    target = real_path(result.path)
    data = encoded(result)
    try:
        before = os.stat(target)
    except OSError as exc:
        raise NotWritten(f"cannot write: {_os_reason(exc)}") from None
    if not stat.S_ISREG(before.st_mode):
        raise NotWritten(f"cannot write: {_not_regular(before.st_mode)}")
    if before.st_mode & 0o222 == 0 or not os.access(target, os.W_OK):
        raise NotWritten("read-only file: not written (make it writable to apply the changes)")
    _check_unchanged(target, result)
    _remove_stale_temps(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise NotWritten(f"cannot write: {_os_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, stat.S_IMODE(before.st_mode))
        in_place = before.st_nlink > 1 or not _same_owner(tmp, before)
        _check_unchanged(target, result)  # right before the file is touched
        if in_place:
            _write_in_place(target, data)
        else:
            os.replace(tmp, target)
    except OSError as exc:
        raise NotWritten(f"cannot write: {_os_reason(exc)}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _check_unchanged(target: Path, result: FileResult) -> None:
    if result.digest is None:
        return
    try:
        now = content_digest(_read_regular_file(target))
    except OSError as exc:
        raise NotWritten(f"cannot read it again before writing: {_os_reason(exc)}") from None
    if now != result.digest:
        raise NotWritten("changed during the run; run again")


def _same_owner(tmp: str, before: os.stat_result) -> bool:
    """Give the temp file the file's owner and group; False where that is not allowed."""
    made = os.stat(tmp)
    if (made.st_uid, made.st_gid) == (before.st_uid, before.st_gid):
        return True
    try:
        os.chown(tmp, before.st_uid, before.st_gid)
    except OSError:
        return False
    return True


def _write_in_place(target: Path, data: bytes) -> None:
    old = target.read_bytes()
    with open(target, "r+b") as handle:
        try:
            handle.write(data)
            handle.truncate()
            handle.flush()
        except OSError as exc:
            try:  # the old bytes fit where they were: put them back
                handle.seek(0)
                handle.write(old)
                handle.truncate()
                handle.flush()
            except OSError:
                raise NotWritten(f"cannot write: {_os_reason(exc)}; the file may be "
                                 "damaged: restore it from version control") from None
            raise


_STALE_TEMP = re.compile(r"\..+\.py\.[a-z0-9_]{8}\.tmp")
_swept: dict[Path, float] = {}  # folder → when its stale temp files were last removed


def _remove_stale_temps(target: Path) -> None:
    """Temp files a run killed between writing and renaming left in the file's folder (each
    folder swept once a minute at most: a big folder is not rescanned for each file)."""
    folder = target.parent
    if time.time() - _swept.get(folder, 0.0) < STALE_TEMP_SECONDS:
        return
    _swept[folder] = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if _STALE_TEMP.fullmatch(entry.name):
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS:
                    os.unlink(entry.path)
