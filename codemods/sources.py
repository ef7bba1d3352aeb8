"""Finding, reading and writing source files: bytes in, bytes out, nothing lost.

Encoding (PEP 263 cookie or UTF-8), a UTF-8 BOM, the newline style and the file mode survive a
rewrite; writes are atomic (temp file in the same folder + rename).
"""

from __future__ import annotations

import fnmatch
import io
import os
import tempfile
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .results import FileResult

SKIP_DIRS = frozenset({
    "__pycache__", "node_modules", "site-packages", "dist-packages", "build", "dist",
    "venv", "env", "__pypackages__",
})
# A file without any of these bytes cannot hold SQLAlchemy work (it is still indexed).
_MARKERS = (b"sqlalchemy", b"sqlmodel", b"query", b"ession", b"engine", b"create_all")


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

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        return cls(path=path, text=text, newline="\r\n" if "\r\n" in text else "\n",
                   may_need_work=any(m.decode() in text for m in _MARKERS))

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        name = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            return cls(path=name, error=f"cannot read: {exc.strerror or exc}")
        has_bom = data.startswith(b"\xef\xbb\xbf")
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError:
            encoding = "utf-8"  # no usable cookie: decoding below says where it breaks
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
                   may_need_work=any(m in data for m in _MARKERS))

    def new_result(self) -> FileResult:
        return FileResult(path=self.path, old_source=self.text, new_source=self.text,
                          error=self.error, error_line=self.error_line, encoding=self.encoding,
                          newline=self.newline, has_bom=self.has_bom)


def _skipped_dir(folder: Path) -> bool:
    name = folder.name
    return (name.startswith(".") or name in SKIP_DIRS or name.endswith(".egg-info")
            or (folder / "pyvenv.cfg").exists())


def _excluded(path: Path, root: Path, excludes: Iterable[str]) -> bool:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern)
               or fnmatch.fnmatch(relative, f"{pattern.rstrip('/')}/*") for pattern in excludes)


def discover(paths: Iterable[Path], excludes: Iterable[str] = ()) -> Iterator[Path | str]:
    """Python files under `paths`, sorted; a missing path is yielded as an error string."""
    excludes = tuple(excludes)
    seen: set[Path] = set()
    for root in paths:
        if not root.exists():
            yield f"{root}: no such file or directory"
            continue
        if root.is_file():
            if root not in seen:
                seen.add(root)
                yield root
            continue
        found: list[Path] = []
        for folder, dirs, files in os.walk(root):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not _skipped_dir(here / d)
                             and not _excluded(here / d, root, excludes))
            found.extend(here / f for f in files
                         if f.endswith(".py") and not _excluded(here / f, root, excludes))
        for path in sorted(found):
            if path not in seen:
                seen.add(path)
                yield path


def find_project_root(paths: list[Path]) -> Path | None:
    """The nearest folder at or above the paths holding pyproject.toml or .git."""
    if not paths:
        return None
    start = paths[0].resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() or (candidate / ".git").exists():
            return candidate
    return None


def write_atomic(result: FileResult) -> None:
    """Replace the file with the new text, keeping encoding, BOM, newlines and mode."""
    path = Path(result.path)
    data = result.new_source.encode(result.encoding)
    if result.has_bom:
        data = b"\xef\xbb\xbf" + data
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
