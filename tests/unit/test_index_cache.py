"""The project index is cached by content hash: a re-run reads only what changed."""

from __future__ import annotations

from pathlib import Path

from codemods.index import cache as index_cache
from codemods.sources import SourceFile


def test_cache_hits_and_invalidates_on_change(tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    a = SourceFile.from_text(str(tmp_path / "a.py"), "def f(session):\n    session.commit()\n")
    b = SourceFile.from_text(str(tmp_path / "b.py"), "x = 1\n")
    first = index_cache.index_all([a, b], jobs=1, cache_dir=cache)
    assert len(list(cache.rglob("*.pickle"))) == 2

    indexed: list[str] = []
    real = index_cache._index_one
    monkeypatch.setattr(index_cache, "_index_one",
                        lambda job: indexed.append(job[0].path) or real(job))
    again = index_cache.index_all([a, b], jobs=1, cache_dir=cache)
    assert indexed == [] and again[a.path] == first[a.path]

    changed = SourceFile.from_text(a.path, "def g():\n    pass\n")
    third = index_cache.index_all([changed, b], jobs=1, cache_dir=cache)
    assert indexed == [a.path] and "g" in third[a.path].functions


def test_adding_a_package_renames_cached_modules(tmp_path: Path) -> None:
    """The module name is part of the key: `pkg/__init__.py` appearing changes no file's text
    but makes `pkg/mod.py` the module `pkg.mod`."""
    cache = tmp_path / "cache"
    (tmp_path / "pkg").mkdir()
    mod = tmp_path / "pkg" / "mod.py"
    mod.write_text("x = 1\n")
    source = SourceFile.from_text(str(mod), "x = 1\n")
    assert index_cache.index_all([source], jobs=1, cache_dir=cache)[source.path].module == "mod"

    (tmp_path / "pkg" / "__init__.py").write_text("")
    again = index_cache.index_all([source], jobs=1, cache_dir=cache)
    assert again[source.path].module == "pkg.mod"


def test_syntax_errors_are_not_cached(tmp_path: Path) -> None:
    bad = SourceFile.from_text(str(tmp_path / "bad.py"), "def (:\n")
    result = index_cache.index_all([bad], jobs=1, cache_dir=tmp_path / "cache")
    assert isinstance(result[bad.path], tuple)
    assert not list((tmp_path / "cache").rglob("*.pickle"))
