"""A re-run over the same files replays the stored results (nothing parsed); after a change
in one module, the decisions it changes in other modules change too, and the files whose
questions of the plan it does not change keep their results without being parsed."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from codemods import Config, engine, passes, workers
from codemods.engine import iter_migrate
from codemods.sources import SourceFile, discover

MODELS = '''\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    orders: Mapped[list["Order"]] = relationship(back_populates="customer"{lazy})


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship(back_populates="orders")
'''

VIEWS = '''\
from sqlalchemy.orm import Session

from .helpers import label
from .models import Customer


def order_counts(session: Session) -> dict[int, int]:
    customers = session.query(Customer).all()
    return {c.id: len(c.orders) for c in customers}


def title(session: Session) -> str:
    return label(session)
'''

PLAIN_HELPER = '''\
def label(session) -> str:
    return "customers"
'''

DATABASE_HELPER = '''\
from .models import Customer


def label(session) -> str:
    return f"{session.query(Customer).count()} customers"
'''


REPORT = '''\
from sqlalchemy.orm import Session

from .models import Order


def order_total(session: Session) -> int:
    return session.query(Order).count()
'''


def _project(root: Path, lazy: str = "", helper: str = PLAIN_HELPER) -> None:
    (root / "shop").mkdir(parents=True, exist_ok=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "models.py").write_text(MODELS.format(lazy=lazy))
    (root / "shop" / "views.py").write_text(VIEWS)
    (root / "shop" / "helpers.py").write_text(helper)
    (root / "shop" / "report.py").write_text(REPORT)


def _run(root: Path, cache: Path | None) -> dict[str, tuple[str, list]]:
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]
    config = Config(cache_dir=str(cache) if cache else None)
    return {Path(r.path).name: (r.new_source, r.findings) for r in iter_migrate(sources, config)}


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the runs that did the work (not replayed from the cache)."""
    counted: list[int] = []
    real = engine._migrate

    def counting(*args, **kwargs):
        counted.append(1)
        yield from real(*args, **kwargs)

    monkeypatch.setattr(engine, "_migrate", counting)
    return counted


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the local pass parses (not kept from an earlier run), by name."""
    names: list[str] = []
    real = passes.local_pass

    def counting(job, plan, config):
        names.append(Path(job.result.path).name)
        return real(job, plan, config)

    monkeypatch.setattr(passes, "local_pass", counting)
    return names


def test_rerun_replays_and_writes_nothing_into_the_project(tmp_path: Path, runs) -> None:
    root, cache = tmp_path / "project", tmp_path / "cache"
    _project(root)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    first = _run(root, cache)
    assert len(runs) == 1
    assert _run(root, cache) == first and len(runs) == 1  # replayed
    assert _run(root, None) == first  # the same as without the cache
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_a_helper_made_async_in_one_module_changes_its_caller(tmp_path: Path, runs) -> None:
    root, cache = tmp_path / "project", tmp_path / "cache"
    _project(root)
    first = _run(root, cache)
    assert "await label(" not in first["views.py"][0]
    (root / "shop" / "helpers.py").write_text(DATABASE_HELPER)
    second = _run(root, cache)
    assert len(runs) == 2
    assert "async def label(" in second["helpers.py"][0]
    assert "await label(session)" in second["views.py"][0]
    assert second == _run(root, None)
    (root / "shop" / "helpers.py").write_text(PLAIN_HELPER)  # back: the first run's results
    assert _run(root, cache) == first and len(runs) == 3


def test_a_relationship_change_in_the_models_changes_a_query_elsewhere(tmp_path: Path,
                                                                        runs) -> None:
    root, cache = tmp_path / "project", tmp_path / "cache"
    _project(root)
    lazy = _run(root, cache)["views.py"][0]
    assert "selectinload(Customer.orders)" in lazy
    (root / "shop" / "models.py").write_text(MODELS.format(lazy=', lazy="selectin"'))
    eager = _run(root, cache)["views.py"][0]
    assert len(runs) == 2
    assert "selectinload" not in eager
    assert eager == _run(root, None)["views.py"][0]


def test_options_and_tool_version_are_in_the_key(tmp_path: Path, runs,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root, cache = tmp_path / "project", tmp_path / "cache"
    _project(root)
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]
    for config in (Config(cache_dir=str(cache)), Config(cache_dir=str(cache), target="sync"),
                   Config(cache_dir=str(cache), jobs=2)):
        list(iter_migrate(sources, config))
    assert len(runs) == 2  # --jobs changes no result
    monkeypatch.setattr(engine.run_cache, "tool_version", lambda: "another version")
    list(iter_migrate(sources, Config(cache_dir=str(cache))))
    assert len(runs) == 3


def test_cli_dry_run_caches_in_the_user_cache_folder(tmp_path: Path, runs,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    root = tmp_path / "project"
    _project(root)
    (root / "pyproject.toml").write_text(dedent("""\
        [project]
        name = "shop"
        """))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    outputs = [CliRunner().invoke(app, ["migrate", str(root), "--format", "json"]).stdout
               for _ in range(2)]
    assert outputs[0] == outputs[1] and '"changed"' in outputs[0]
    assert len(runs) == 1
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert any((tmp_path / "user-cache" / "sqla-asyncify").rglob("runs/*/*.pickle"))


def test_after_an_edit_only_the_files_it_can_change_are_redone(tmp_path: Path,
                                                               parsed: list[str]) -> None:
    root, cache = tmp_path / "project", tmp_path / "cache"
    _project(root)
    _run(root, cache)
    assert sorted(parsed) == ["models.py", "report.py", "views.py"]
    # a function added to report.py: nothing else asks about it
    (root / "shop" / "report.py").write_text(REPORT + "\n\ndef unused(x):\n    return x\n")
    parsed.clear()
    after = _run(root, cache)
    assert parsed == ["report.py"]
    assert after == _run(root, None)
    # the helper made async: views.py awaits it now, models.py and report.py are kept
    (root / "shop" / "helpers.py").write_text(DATABASE_HELPER)
    parsed.clear()
    after = _run(root, cache)
    assert "await label(session)" in after["views.py"][0]
    assert sorted(parsed) == ["helpers.py", "views.py"]
    assert after == _run(root, None)


def test_a_trace_of_another_configuration_is_not_used(tmp_path: Path, parsed: list[str]
                                                      ) -> None:
    """The traces are kept per tool version and options: a sync-target run after an async
    one parses every file again."""
    root, cache = tmp_path / "project", tmp_path / "cache"
    _project(root)
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]
    list(iter_migrate(sources, Config(cache_dir=str(cache))))
    parsed.clear()
    (root / "shop" / "report.py").write_text(REPORT + "\n")
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]
    list(iter_migrate(sources, Config(cache_dir=str(cache), target="sync")))
    assert sorted(parsed) == ["models.py", "report.py", "views.py"]


def test_traces_come_back_from_worker_processes(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Questions travel with each outcome from the workers: the same reuse with two of them
    (forced for this small project) as in one process."""
    monkeypatch.setattr(workers, "MIN_FILES_PER_WORKER", 1)
    root, cache = tmp_path / "project", tmp_path / "cache"
    _project(root)
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]
    config = Config(cache_dir=str(cache), jobs=2)
    list(iter_migrate(sources, config))
    traces = engine.run_cache.load_traces(cache, config)
    assert {Path(p).name for p, t in traces.items() if t.local and t.colour} == {
        "models.py", "report.py", "views.py"}
    assert all(t.local[0].asked for t in traces.values() if t.local)
    (root / "shop" / "helpers.py").write_text(DATABASE_HELPER)
    sources = [SourceFile.read(p) for p in discover([root]) if isinstance(p, Path)]
    after = {Path(r.path).name: (r.new_source, r.findings) for r in iter_migrate(sources, config)}
    assert after == _run(root, None)


def test_a_file_failed_by_a_bug_is_redone(tmp_path: Path, parsed: list[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug's outcome is not kept per file (its message need not be the same twice, and the
    next run may not have the bug): after an edit elsewhere the failed file runs again."""
    real = passes.colouring_pass

    def failing(pending, plan):
        if pending.source.path.endswith("report.py"):
            raise RecursionError("maximum recursion depth exceeded")
        return real(pending, plan)

    monkeypatch.setattr(passes, "colouring_pass", failing)
    root, cache = tmp_path / "project", tmp_path / "cache"
    _project(root)
    _run(root, cache)
    (root / "shop" / "views.py").write_text(VIEWS + "\n")
    parsed.clear()
    _run(root, cache)
    assert sorted(parsed) == ["report.py", "views.py"]
