"""Reading and writing files: nothing but the rewritten code may change."""

from __future__ import annotations

from pathlib import Path

from codemods import migrate_sources
from codemods.sources import Skipped, SourceFile, discover, write_atomic

SYNC = (
    "# -*- coding: {enc} -*-\n"
    "from sqlalchemy.orm import Session\n"
    "\n"
    "def save(session: Session, obj):  # {comment}\n"
    "    session.add(obj)   \n"
    "    session.commit()\n"
)


def _migrate_file(path: Path) -> str:
    [result] = migrate_sources([SourceFile.read(path)])
    assert result.error is None, result.error
    write_atomic(result)
    return result.new_source


def test_crlf_bom_trailing_whitespace_and_comments_survive(tmp_path: Path) -> None:
    path = tmp_path / "crlf.py"
    text = SYNC.format(enc="utf-8", comment="héllo").replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    _migrate_file(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    decoded = data[3:].decode("utf-8")
    assert "    await session.commit()\r\n" in decoded
    assert "    session.add(obj)   \r\n" in decoded  # trailing whitespace outside the edit
    assert "# héllo" in decoded


def test_encoding_cookie_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(SYNC.format(enc="latin-1", comment="caf\xe9").encode("latin-1"))
    _migrate_file(path)
    data = path.read_bytes()
    assert "caf\xe9".encode("latin-1") in data
    assert b"async def save" in data


def test_missing_final_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "nonl.py"
    path.write_text(SYNC.format(enc="utf-8", comment="x").rstrip("\n"))
    assert _migrate_file(path).endswith("await session.commit()")


def test_file_without_sqlalchemy_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_text("def session(x):\n    return x.commit()\n")
    [result] = migrate_sources([SourceFile.read(path)])
    assert not result.changed


def _found(paths: list[Path], excludes: tuple[str, ...] = ()) -> list[Path]:
    return [p for p in discover(paths, excludes) if isinstance(p, Path)]


def test_discover_skips_hidden_virtualenvs_and_build_output(tmp_path: Path) -> None:
    for rel in ["a.py", "pkg/b.py", ".hidden/c.py", "venv/d.py", "env2/e.py", "build/f.py",
                "pkg/__pycache__/g.py", "x.egg-info/h.py", "notes.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "env2" / "pyvenv.cfg").write_text("")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("")
    found = [p.relative_to(tmp_path).as_posix() for p in _found([tmp_path])]
    assert found == ["a.py", "pkg/b.py"]
    assert _found([tmp_path], ("pkg/*",)) == [tmp_path / "a.py"]
    missing = tmp_path / "nope"
    assert list(discover([missing])) == [
        Skipped(str(missing), "no such file or directory", failed=True)]
