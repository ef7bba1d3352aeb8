"""The command line: flags, formats and exit codes (typer's CliRunner, in-process)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()

SYNC = '''\
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


engine = create_engine("sqlite://")


def first_user(session: Session):
    return session.query(User).order_by(User.id).first()


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        print(first_user(session))


if __name__ == "__main__":
    main()
'''
PLAIN = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(SYNC)
    (tmp_path / "util.py").write_text(PLAIN)
    return tmp_path


def run(*args: str):
    return runner.invoke(app, list(args))


def test_dry_run_writes_nothing_and_shows_diff_and_summary(project: Path) -> None:
    result = run("migrate", str(project))
    assert result.exit_code == 0, result.output
    assert (project / "app.py").read_text() == SYNC
    assert "create_async_engine" in result.output
    assert "files scanned" in result.output and "SQA100" in result.output
    assert "Dry run" in result.output


def test_write_applies_atomically_and_second_run_is_clean(project: Path) -> None:
    mode = 0o640
    os.chmod(project / "app.py", mode)
    assert run("migrate", str(project), "--write").exit_code == 0
    text = (project / "app.py").read_text()
    assert "async def main()" in text and "asyncio.run(main())" in text
    assert (project / "app.py").stat().st_mode & 0o777 == mode
    assert (project / "util.py").read_text() == PLAIN
    assert not list(project.glob(".*.tmp"))
    check = run("migrate", str(project), "--check")
    assert check.exit_code == 0, check.output


def test_check_exits_1_when_work_is_left(project: Path) -> None:
    result = run("migrate", str(project), "--check")
    assert result.exit_code == 1
    assert (project / "app.py").read_text() == SYNC


def test_check_exits_1_while_todo_markers_remain(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "# TODO(sqla-asyncify SQA100): convert this by hand\nx = 1\n")
    assert run("migrate", str(tmp_path), "--check").exit_code == 1


def test_diff_output_is_accepted_by_git_apply(project: Path) -> None:
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    cwd = os.getcwd()
    os.chdir(project)
    try:
        out = run("migrate", "app.py", "--diff")
    finally:
        os.chdir(cwd)
    assert out.exit_code == 0
    assert out.output.startswith("--- a/app.py\n+++ b/app.py\n")
    patch = project / "change.patch"
    patch.write_text(out.output)
    applied = subprocess.run(["git", "apply", "change.patch"], cwd=project,
                             capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    assert "create_async_engine" in (project / "app.py").read_text()


def test_json_report(project: Path) -> None:
    result = run("migrate", str(project), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["summary"]["files_scanned"] == 2
    assert data["summary"]["changed"] == 1
    app_report = next(f for f in data["files"] if f["path"].endswith("app.py"))
    assert app_report["status"] == "changed"
    codes = {c["code"] for c in app_report["changes"]}
    assert {"SQA001", "SQA003", "SQA100", "SQA300", "SQA301"} <= codes
    assert all(isinstance(c["line"], int) and c["line"] > 0 for c in app_report["changes"])
    assert data["notes"] == []


FLASK_APP = '''\
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///recipes.db"
db = SQLAlchemy(app)


class Recipe(db.Model):
    id = db.Column(db.Integer, primary_key=True)


def count_recipes():
    return Recipe.query.count()
'''
FLASK_VIEWS = '''\
from .app import Recipe, db


def add_recipe():
    db.session.add(Recipe())
    db.session.commit()
'''


def test_a_project_holding_sqlalchemy_below_2_gets_a_note(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\nSQLAlchemy>=1.4,<2\n")
    (tmp_path / "store.py").write_text(
        "from sqlalchemy import create_engine\n\nengine = create_engine('sqlite://')\n")
    data = json.loads(run("migrate", str(tmp_path), "--no-cache", "--format", "json").stdout)
    assert [n for n in data["notes"] if "requirements.txt: SQLAlchemy>=1.4,<2" in n]
    sync = json.loads(run("migrate", str(tmp_path), "--no-cache", "--format", "json",
                          "--target", "sync").stdout)
    assert sync["notes"] == []  # 1.4 runs 2.0-style select() on its sync sessions


def test_flask_sqlalchemy_project_gets_one_note_for_the_run(tmp_path: Path) -> None:
    package = tmp_path / "recipes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(FLASK_APP)
    (package / "views.py").write_text(FLASK_VIEWS)
    note = "Flask-SQLAlchemy (`recipes.app.db`), which has no asyncio support"

    text = run("migrate", str(package), "--no-cache")
    assert text.exit_code == 0
    assert text.output.count(note) == 1
    assert "--target sync" in text.output.split(note, 1)[1]

    data = json.loads(run("migrate", str(package), "--no-cache", "--format", "json").stdout)
    assert len(data["notes"]) == 1 and note in data["notes"][0]
    views = next(f for f in data["files"] if f["path"].endswith("views.py"))
    assert views["status"] == "unchanged"  # db.session.commit() is not awaited
    assert [c["code"] for f in data["files"] for c in f["changes"]] == []  # URL kept
    assert [c["code"] for f in data["files"] for c in f["todos"]] == ["SQA100"]

    diff = run("migrate", str(package), "--no-cache", "--diff")
    assert diff.stdout.startswith("--- a/") and note not in diff.stdout
    assert diff.stderr.count(note) == 1

    sync = json.loads(run("migrate", str(package), "--no-cache", "--format", "json",
                          "--target", "sync").stdout)
    assert sync["notes"] == []


PYRAMID_VIEWS = '''\
from pyramid.view import view_config
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Page(Base):
    __tablename__ = "pages"
    id: Mapped[int] = mapped_column(primary_key=True)


@view_config(route_name="pages", renderer="json")
def page_count(request):
    return {"count": request.dbsession.query(Page).count()}


def newest(session):
    return session.query(Page).order_by(Page.id.desc()).first()
'''


def test_pyramid_project_is_migrated_as_with_the_sync_target(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(PYRAMID_VIEWS)
    asked_async = json.loads(run("migrate", str(tmp_path), "--no-cache", "--format",
                                 "json").stdout)
    asked_sync = json.loads(run("migrate", str(tmp_path), "--no-cache", "--format", "json",
                                "--target", "sync").stdout)
    assert len(asked_async["notes"]) == 1 and "Pyramid" in asked_async["notes"][0]
    assert "migrated as with --target sync" in asked_async["notes"][0]
    assert asked_sync["notes"] == []
    assert asked_async["files"] == asked_sync["files"]
    changes = [c["code"] for f in asked_async["files"] for c in f["changes"]]
    assert changes.count("SQA100") == 2 and not any(c.startswith("SQA3") for c in changes)


def test_alembic_modules_stay_sync_with_one_note(tmp_path: Path) -> None:
    (tmp_path / "db.py").write_text(
        "from sqlalchemy import create_engine\n\nengine = create_engine('sqlite:///app.db')\n")
    (tmp_path / "env.py").write_text(
        "from alembic import context\nfrom sqlalchemy import create_engine\n\n\n"
        "def run_migrations_online():\n"
        "    with create_engine('sqlite:///app.db').connect() as connection:\n"
        "        context.configure(connection=connection)\n\n\nrun_migrations_online()\n")
    data = json.loads(run("migrate", str(tmp_path), "--no-cache", "--format", "json").stdout)
    assert [n for n in data["notes"] if "Alembic modules stay synchronous (" in n and "env.py" in n]
    env = next(f for f in data["files"] if f["path"].endswith("env.py"))
    assert env["status"] == "unchanged"
    db = next(f for f in data["files"] if f["path"].endswith("db.py"))
    assert db["status"] != "unchanged"


def test_select_and_ignore(project: Path) -> None:
    data = json.loads(run("migrate", str(project), "--format", "json",
                          "--select", "SQA001").stdout)
    codes = {c["code"] for f in data["files"] for c in f["changes"]}
    assert "SQA001" in codes and "SQA400" not in codes  # with what its code needs (a note)
    assert any("they run too" in note for note in data["notes"])
    data = json.loads(run("migrate", str(project), "--format", "json",
                          "--ignore", "SQA4,SQA101").stdout)
    codes = {c["code"] for f in data["files"] for c in f["changes"]}
    assert codes and not any(c.startswith(("SQA4", "SQA101")) for c in codes)


def test_unknown_rule_code_is_a_usage_error(project: Path) -> None:
    result = run("migrate", str(project), "--select", "XYZ9")
    assert result.exit_code == 2
    assert "unknown rule code" in result.output


def test_bad_files_fail_alone_with_path_and_line(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(SYNC)
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "latin.py").write_bytes(b"x = '\xff\xfe'\n")
    (tmp_path / "deep.py").write_text("x = " + " + ".join(["a"] * 3000) + "\n")
    result = run("migrate", str(tmp_path), str(tmp_path / "missing.py"), "--write")
    assert result.exit_code == 2
    out = result.output
    assert "broken.py:1" in out and "syntax error" in out
    assert "latin.py:1" in out and "cannot decode" in out
    assert "missing.py" in out and "no such file" in out
    assert "deep.py" in out and "too deeply nested" in out
    assert "Traceback" not in out
    assert "create_async_engine" in (tmp_path / "good.py").read_text()
    assert (tmp_path / "broken.py").read_text() == "def f(:\n    pass\n"


def test_exclude_and_skipped_directories(project: Path) -> None:
    venv = project / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "dep.py").write_text(SYNC)
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(SYNC)
    data = json.loads(run("migrate", str(project), "--format", "json",
                          "--exclude", "app.py").stdout)
    assert [Path(f["path"]).name for f in data["files"]] == ["util.py"]


def test_settings_from_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.sqla-asyncify]\nselect = ["SQA0"]\n')
    data = json.loads(run("migrate", str(project), "--format", "json").stdout)
    codes = {c["code"] for f in data["files"] for c in f["changes"]}
    assert "SQA001" in codes and any("they run too" in note for note in data["notes"])
    (project / "pyproject.toml").write_text('[tool.sqla-asyncify]\nignore = ["SQA001"]\n')
    result = run("migrate", str(project))
    assert result.exit_code == 2 and "needs SQA001" in result.output


def test_rules_lists_every_rule_and_shows_one() -> None:
    listing = run("rules")
    assert listing.exit_code == 0
    from codemods import RULES
    for rule in RULES:
        assert rule.code in listing.output
    one = run("rules", "SQA100")
    assert one.exit_code == 0 and "Before:" in one.output and "After:" in one.output
    assert run("rules", "SQA999").exit_code == 2


def test_write_and_check_together_is_a_usage_error(project: Path) -> None:
    assert run("migrate", str(project), "--write", "--check").exit_code == 2


def test_console_script_keeps_a_sync_entry_point(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n'
                                             '[project.scripts]\napp = "app:main"\n')
    (tmp_path / "app.py").write_text(SYNC)
    assert run("migrate", str(tmp_path), "--write").exit_code == 0
    text = (tmp_path / "app.py").read_text()
    # the console script still calls a plain `main()`; the work runs in `_main_async()`
    assert "def main():\n    return asyncio.run(_main_async())" in text
    assert "async def _main_async():" in text
    assert "if __name__ == \"__main__\":\n    main()" in text


def test_summary_counts_audit_flags_and_suppression_silences_them(tmp_path: Path) -> None:
    untyped = ("from sqlalchemy import func\n\n\n"
               "def total(session, table):\n"
               "    return session.query(func.count()).select_from(table).scalar()\n")
    (tmp_path / "app.py").write_text(untyped)
    result = run("migrate", str(tmp_path), "--format", "json", "--no-cache")
    summary = json.loads(result.stdout)["summary"]
    assert summary["audit_flags"] == {"SQA101": 1}
    assert "SQA101" in run("migrate", str(tmp_path), "--no-cache").stdout

    (tmp_path / "app.py").write_text(untyped.replace(
        "    return", "    # sqla-asyncify: ignore[SQA101]\n    return"))
    result = run("migrate", str(tmp_path), "--format", "json", "--no-cache")
    assert json.loads(result.stdout)["summary"]["audit_flags"] == {}
