"""The project index is cached by content hash: a re-run reads only what changed."""

from __future__ import annotations

from pathlib import Path

from codemods import workers
from codemods.sources import SourceFile


def test_cache_hits_and_invalidates_on_change(tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    a = SourceFile.from_text(str(tmp_path / "a.py"), "def f(session):\n    session.commit()\n")
    b = SourceFile.from_text(str(tmp_path / "b.py"), "x = 1\n")
    first = workers.index_all([a, b], jobs=1, cache_dir=cache)
    assert len(list(cache.rglob("*.pickle"))) == 2

    indexed: list[str] = []
    real = workers._index_one
    monkeypatch.setattr(workers, "_index_one", lambda s: indexed.append(s.path) or real(s))
    again = workers.index_all([a, b], jobs=1, cache_dir=cache)
    assert indexed == [] and again[a.path] == first[a.path]

    changed = SourceFile.from_text(a.path, "def g():\n    pass\n")
    third = workers.index_all([changed, b], jobs=1, cache_dir=cache)
    assert indexed == [a.path] and "g" in third[a.path].functions


def test_syntax_errors_are_not_cached(tmp_path: Path) -> None:
    bad = SourceFile.from_text(str(tmp_path / "bad.py"), "def (:\n")
    result = workers.index_all([bad], jobs=1, cache_dir=tmp_path / "cache")
    assert isinstance(result[bad.path], tuple)
    assert not list((tmp_path / "cache").rglob("*.pickle"))
