"""Module names as Python imports the files: namespace packages (folders without
`__init__.py`) named from the folder holding the run's code, and two files that would be one
module reported rather than mixed up."""

from __future__ import annotations

from pathlib import Path

from codemods import Config
from codemods.engine import migrate_sources
from codemods.index.cache import index_all
from codemods.sources import SourceFile


def _tree(root: Path, files: dict[str, str]) -> list[SourceFile]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return [SourceFile.read(root / name) for name in files]


def _names(root: Path, files: list[str]) -> dict[str, str]:
    indexes = index_all(_tree(root, dict.fromkeys(files, "x = 1\n")), jobs=1)
    return {Path(path).relative_to(root).as_posix(): ix.module  # type: ignore[union-attr]
            for path, ix in indexes.items()}


def test_namespace_packages_are_named_from_the_root_of_the_run(tmp_path: Path) -> None:
    assert _names(tmp_path, ["main.py", "models/jobs.py", "repository/jobs.py",
                             "routes/v1/views.py", "web/jobs/views.py"]) == {
        "main.py": "main", "models/jobs.py": "models.jobs",
        "repository/jobs.py": "repository.jobs", "routes/v1/views.py": "routes.v1.views",
        "web/jobs/views.py": "web.jobs.views"}


def test_regular_packages_keep_their_names(tmp_path: Path) -> None:
    """The top of a regular package is on sys.path, also inside a folder that is none; a
    namespace folder inside a package is a subpackage however deep."""
    assert _names(tmp_path, ["tests/test_it.py", "app/pkg/__init__.py", "app/pkg/mod.py",
                             "app/pkg/a/b/deep.py"]) == {
        "tests/test_it.py": "tests.test_it", "app/pkg/__init__.py": "pkg",
        "app/pkg/mod.py": "pkg.mod", "app/pkg/a/b/deep.py": "pkg.a.b.deep"}


def test_a_folder_python_cannot_import_through_starts_the_name(tmp_path: Path) -> None:
    assert _names(tmp_path, ["my-service/models/jobs.py", "tools/seed.py"]) == {
        "my-service/models/jobs.py": "models.jobs", "tools/seed.py": "tools.seed"}


def test_two_files_of_one_module_name_are_reported(tmp_path: Path) -> None:
    """`svc-a/models/jobs.py` and `svc-b/models/jobs.py` are both `models.jobs`: neither is
    migrated on a guess, and the rest of the run goes on."""
    code = ("from sqlalchemy.orm import Session\n\n\n"
            "def count(session: Session):\n    return session.query(Job).count()\n")
    sources = _tree(tmp_path, {"svc-a/models/jobs.py": code, "svc-b/models/jobs.py": code,
                               "shared/util.py": "def double(x):\n    return 2 * x\n"})
    a, b, util = migrate_sources(sources, Config())
    assert a.error and "svc-b/models/jobs.py" in a.error and "`models.jobs`" in a.error
    assert b.error and "svc-a/models/jobs.py" in b.error
    assert a.new_source == a.old_source and b.new_source == b.old_source
    assert util.error is None


def test_of_copies_of_one_module_the_one_being_migrated_is_it(tmp_path: Path) -> None:
    """A tutorial repository holding each chapter's `app` package: migrating one chapter, its
    own `app.store` is what `from app.store import ...` finds, not the other chapter's (which
    has no `count()`)."""
    store = ("from sqlalchemy.orm import Session\n\n\n"
             "def count(session: Session):\n    return session.query(Job).count()\n")
    files = {"part-1/app/__init__.py": "", "part-1/app/store.py": "def other():\n    pass\n",
             "part-2/app/__init__.py": "", "part-2/app/store.py": store,
             "part-2/app/api.py": "from app.store import count\n\n\n"
                                  "def total(session):\n    return count(session)\n"}
    sources = _tree(tmp_path, files)
    chapter = [s for s in sources if "part-2" in s.path]
    results = migrate_sources(chapter, Config(), [s for s in sources if s not in chapter])
    assert all(r.error is None for r in results)
    api = next(r for r in results if r.path.endswith("api.py"))
    assert "return await count(session)" in api.new_source
