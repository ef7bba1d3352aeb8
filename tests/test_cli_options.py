"""Options keep the output coherent (issue 15, items 14-24): selections, suppression markers,
configuration, summary counts — through typer's CliRunner."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from test_cli import SYNC
from typer.testing import CliRunner

from cli.main import app
from codemods import Config, migrate_source
from codemods.rules import RULES, SelectionError, resolve_selection
from codemods.rules.base import GUARANTEES, USERS_AND_ADDRESSES

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (tmp_path / "app.py").write_text(SYNC)
    return tmp_path


# 14. a selection pulls in what its code needs, or is refused
@pytest.mark.parametrize("option", [["--select", "SQA1,SQA2"], ["--select", "SQA100"],
                                    ["--select", "SQA2"], ["--select", "SQA4"]])
def test_a_selection_runs_the_rules_its_code_needs_and_says_so(project: Path,
                                                              option: list[str]) -> None:
    result = run("migrate", str(project), "--write", *option)
    assert result.exit_code == 0, result.output
    assert "await outside" not in result.output and "error" not in result.stderr
    assert "SQA300 as well (a function that now awaits becomes `async def`): they run too" in (
        result.output)
    text = (project / "app.py").read_text()
    assert "async def first_user" in text and "asyncio.run(main())" in text
    compile(text, "app.py", "exec")


@pytest.mark.parametrize(("ignored", "needer"), [("SQA300", "SQA010"), ("SQA301", "SQA300"),
                                                 ("SQA3", "SQA010"), ("SQA200", "SQA001")])
def test_ignoring_a_rule_the_others_need_is_refused(project: Path, ignored: str,
                                                    needer: str) -> None:
    before = (project / "app.py").read_text()
    result = run("migrate", str(project), "--write", "--ignore", ignored)
    assert result.exit_code == 2, result.output
    assert f"{needer} needs" in result.output and "would leave code that does not work" in (
        result.output)
    assert (project / "app.py").read_text() == before


def test_ignoring_rules_nothing_needs_is_accepted(project: Path) -> None:
    result = run("migrate", str(project), "--ignore", "SQA4,SQA306")
    assert result.exit_code == 0, result.output
    assert "they run too" not in result.output


def test_the_library_resolves_selections_too() -> None:
    result = migrate_source(SYNC, "app.py", Config(select=frozenset({"SQA100"})))
    assert result.error is None and "async def first_user" in result.new_source
    with pytest.raises(SelectionError):
        migrate_source(SYNC, "app.py", Config(ignore=frozenset({"SQA301"})))


def test_what_rules_need_is_ensured_by_rules_of_each_target() -> None:
    for rule in RULES:
        assert rule.needs <= set(GUARANTEES) and rule.ensures <= set(GUARANTEES), rule.code
        for target in rule.targets & {"async"}:
            for need in rule.needs:
                assert any(need in r.ensures and target in r.targets for r in RULES), (
                    rule.code, need)
    config, notes = resolve_selection(Config(select=frozenset({"SQA100"}), target="sync"))
    assert not config.pulled_in and not notes  # sync code awaits nothing


# 15. suppression markers: strict, with prefixes, and a TODO where a suppression breaks code
@pytest.mark.parametrize("marker", ["ignore[sqa201]", "ignore[SQA201;SQA003]", "ignore SQA201",
                                    "ignore[]", "IGNORE"])
def test_a_malformed_suppression_marker_warns_and_suppresses_nothing(tmp_path: Path,
                                                                    marker: str) -> None:
    source = SYNC.replace("    with Session(engine) as session:",
                          f"    with Session(engine) as session:  # sqla-asyncify: {marker}")
    (tmp_path / "app.py").write_text(source)
    line = source.splitlines().index(
        f"    with Session(engine) as session:  # sqla-asyncify: {marker}") + 1
    for output in ("text", "json"):
        result = run("migrate", str(tmp_path / "app.py"), "--format", output)
        assert result.exit_code == 0, result.output
        assert f"app.py:{line}: malformed suppression marker" in result.stderr
    assert "async with AsyncSession" in run("migrate", str(tmp_path), "--diff").stdout


def test_suppression_takes_prefixes_and_a_broken_with_gets_a_todo(tmp_path: Path) -> None:
    source = SYNC.replace("    with Session(engine) as session:",
                          "    with Session(engine) as session:  # sqla-asyncify: ignore[SQA2]")
    (tmp_path / "app.py").write_text(source)
    result = run("migrate", str(tmp_path), "--write")
    assert result.exit_code == 0 and "malformed" not in result.stderr
    text = (tmp_path / "app.py").read_text()
    assert "    with AsyncSession(" in text and "async with AsyncSession" not in text
    assert "TODO(sqla-asyncify SQA201): a suppression keeps this `with`" in text
    assert run("migrate", str(tmp_path), "--check").exit_code == 1  # the marker is work left
    assert run("migrate", str(tmp_path), "--diff").stdout == ""  # and a re-run adds nothing


# 16. configuration: checked strictly, gitignore-like excludes, --show-settings
@pytest.mark.parametrize(("table", "message"), [
    ('strict-loading = "false"\n', "`strict-loading` must be true or false (got 'false')"),
    ("exclud = []\n", "unknown key `exclud`"),
    ('target = "asnyc"\n', "`target` must be one of 'async', 'sync'"),
    ("select = 3\n", "`select` must be a list of rule codes or prefixes"),
    ("select = [\n", "invalid TOML"),
])
def test_a_bad_configuration_exits_2_naming_the_file_and_key(project: Path, table: str,
                                                              message: str) -> None:
    (project / "pyproject.toml").write_text("[tool.sqla-asyncify]\n" + table)
    before = (project / "app.py").read_text()
    for command in (["migrate", str(project), "--write"], ["status", str(project)]):
        result = run(*command)
        assert result.exit_code == 2, result.output
        assert "pyproject.toml" in result.stderr and message in result.stderr, result.stderr
    assert (project / "app.py").read_text() == before


def test_excludes_are_gitignore_like_from_the_project_root(project: Path) -> None:
    nested = project / "src" / "app" / "migrations"
    nested.mkdir(parents=True)
    (nested / "0001.py").write_text(SYNC)
    (project / "migrations").mkdir()
    (project / "migrations" / "env.py").write_text(SYNC)
    (project / "src" / "app" / "keep.py").write_text(SYNC)

    def migrated(exclude: str) -> set[str]:
        (project / "pyproject.toml").write_text(f'[tool.sqla-asyncify]\nexclude = ["{exclude}"]\n')
        result = run("migrate", str(project / "src"), "--no-cache", "--format", "json")
        assert result.exit_code == 0, result.output
        return {Path(f["path"]).relative_to(project).as_posix()
                for f in json.loads(result.stdout)["files"] if f["status"] == "changed"}

    # no slash: a name at any depth
    assert migrated("migrations") == {"src/app/keep.py"}
    # with a slash: from the project root, not from the folder the run was given
    assert migrated("migrations/*") == {"src/app/keep.py", "src/app/migrations/0001.py"}
    assert migrated("src/app/migrations/") == {"src/app/keep.py"}
    assert migrated("**/migrations/*.py") == {"src/app/keep.py"}


def test_show_settings_prints_the_resolved_configuration(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.sqla-asyncify]\nselect = ["SQA1"]\nexclude = ["migrations"]\n'
        "strict-loading = true\n")
    result = run("migrate", str(project), "--show-settings", "--target", "async")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert 'select = ["SQA1"]' in lines and 'exclude = ["migrations"]' in lines
    assert "strict-loading = true" in lines and f"project-root = {project.resolve()}" in lines
    assert any(line.startswith("rules-run = ") and '"SQA300"' in line for line in lines)


# 20. true summary counts
def _summary(*args: str) -> dict:
    result = run("migrate", *args, "--format", "json", "--no-cache")
    return json.loads(result.stdout)["summary"]


def test_a_no_op_second_run_adds_no_todos(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SYNC.replace(
        "engine = create_engine(\"sqlite://\")",
        "engine = create_engine(\"sqlite://\")\nMaker = sessionmaker(engine, expire_on_commit=True)"
    ).replace("from sqlalchemy.orm import", "from sqlalchemy.orm import sessionmaker,"))
    first = _summary(str(tmp_path))
    assert first["todos_added"] >= 1
    assert run("migrate", str(tmp_path), "--write").exit_code == 0
    again = _summary(str(tmp_path))
    assert (again["changed"], again["todos_added"], again["changes_by_rule"]) == (0, 0, {})
    assert again["todo_markers_remaining"] == first["todos_added"]


def test_a_failed_file_counts_no_changes(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(SYNC + "\nreturn first_user\n")  # does not compile
    result = run("migrate", str(tmp_path), "--format", "json", "--no-cache")
    data = json.loads(result.stdout)
    assert result.exit_code == 2 and data["summary"]["failed"] == 1
    assert data["summary"]["changes_by_rule"] == {} and data["summary"]["todos_added"] == 0
    assert data["files"][0]["changes"] == [] and "Dry run" not in result.stdout


def test_one_line_rewritten_for_several_reasons_counts_once_per_rule(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SYNC + '''

def a(session: Session):
    return first_user(session)


def b(session: Session):
    return [a(session), a(session), first_user(session)]
''')
    by_rule = _summary(str(tmp_path))["changes_by_rule"]
    data = json.loads(run("migrate", str(tmp_path), "--format", "json", "--no-cache").stdout)
    lines = [(c["code"], c["line"]) for c in data["files"][0]["changes"]]
    assert len(lines) > len(set(lines))  # several SQA300 changes on the line of b's return
    assert by_rule["SQA300"] == len({line for code, line in lines if code == "SQA300"})


# 17. status and --check agree; the pre-commit apply hook writes only the files it is given
def _agree(tree: Path) -> tuple[int, dict]:
    check = run("migrate", str(tree), "--check", "--no-cache").exit_code
    status = json.loads(run("status", str(tree), "--format", "json").stdout)
    states = {m["state"] for m in status["modules"]}
    assert (check == 1) == bool(states - {"migrated", "no database code"}), (check, status)
    return check, status


@pytest.mark.parametrize("pyproject", [
    '[project]\nname = "app"\n[tool.sqla-asyncify]\nstrict-loading = true\n',
    '[project]\nname = "app"\n[project.scripts]\napp = "app:main"\n',
])
def test_status_and_check_agree(project: Path, pyproject: str) -> None:
    (project / "models.py").write_text(USERS_AND_ADDRESSES)
    (project / "pyproject.toml").write_text(pyproject)
    assert _agree(project)[0] == 1
    assert run("migrate", str(project), "--write", "--no-cache").exit_code == 0
    assert _agree(project)[0] == 0


def test_the_apply_hook_writes_only_the_files_it_is_given(project: Path) -> None:
    (project / "repo.py").write_text(
        "from sqlalchemy.orm import Session\n\n\ndef count(session: Session, User):\n"
        "    return session.query(User).count()\n")
    (project / "app.py").write_text(SYNC + "\n\nfrom repo import count\n\n\n"
                                           "def report(session):\n    return count(session)\n")
    before = (project / "app.py").read_text()
    result = run("migrate", str(project / "repo.py"), "--write", "--only-given", "--no-cache")
    assert "async def count" in (project / "repo.py").read_text()
    assert (project / "app.py").read_text() == before
    assert result.exit_code == 1 and "app.py: must change too" in result.stderr


# 18, 22, 24: conventions
def test_version_and_short_help() -> None:
    version = run("--version")
    assert version.exit_code == 0 and version.stdout.startswith("sqla-asyncify ")
    for args in (["-h"], ["migrate", "-h"], ["status", "-h"]):
        shown = run(*args)
        assert shown.exit_code == 0 and "Usage:" in shown.stdout
    helped = run("migrate", "-h").stdout
    assert "--select CODES" in helped and "--exclude GLOB" in helped and "{paths}" not in helped


def test_quiet_prints_only_problems(project: Path) -> None:
    (project / "bad.py").write_text("def broken(:\n")
    result = run("migrate", str(project), "-q")
    assert result.exit_code == 2
    assert result.stdout == "" and "bad.py" in result.stderr
    assert run("migrate", str(project / "app.py"), "--quiet").output == ""


def test_rules_are_sorted_and_not_wrapped_when_piped() -> None:
    listing = run("rules").stdout.splitlines()
    codes = [line.split()[0] for line in listing]
    assert codes == sorted(codes) and len(codes) == len(RULES)
    assert all(line == f"{r.code}  {r.summary}" for line, r in zip(
        listing, sorted(RULES, key=lambda r: r.code), strict=True))
    shown = run("rules", "SQA100").stdout
    long_line = next(line for line in shown.splitlines() if len(line) > 80)
    assert "session.scalars" in long_line or "select(" in long_line


def test_the_same_file_given_twice_is_processed_once(project: Path, monkeypatch) -> None:
    monkeypatch.chdir(project)
    data = json.loads(run("migrate", "app.py", str(project / "app.py"), ".", "--format",
                          "json", "--no-cache").stdout)
    assert [f["path"] for f in data["files"]] == ["app.py"]
    assert data["summary"]["files_scanned"] == 1


# 19. --format github and sarif
def test_github_annotations_and_sarif(project: Path) -> None:
    (project / "bad.py").write_text("def broken(:\n")
    (project / "todo.py").write_text(SYNC.replace("# sqla", "#").replace(
        'engine = create_engine("sqlite://")',
        'engine = create_engine("sqlite://")\nfrom sqlalchemy.orm import sessionmaker\n'
        "Maker = sessionmaker(engine, expire_on_commit=True)"))
    github = run("migrate", str(project), "--format", "github", "--no-cache")
    assert github.exit_code == 2
    lines = github.stdout.splitlines()
    assert any(line.startswith("::error file=") and "bad.py,line=1" in line for line in lines)
    assert any(line.startswith("::warning file=") and "title=sqla-asyncify SQA404" in line
               for line in lines)
    assert any(line.startswith("::notice file=") and "app.py" in line for line in lines)
    sarif = json.loads(run("migrate", str(project), "--format", "sarif", "--no-cache").stdout)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert {r["level"] for r in results} == {"error", "warning", "note"}
    assert {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]} == {
        r.code for r in RULES}
    assert run("status", str(project), "--format", "sarif").exit_code == 2


# 23. the progress bar runs to 100%, with elapsed time and ETA
def test_the_progress_bar_ends_full(tmp_path: Path, monkeypatch) -> None:
    import cli.main
    monkeypatch.setattr(cli.main, "_PROGRESS_THRESHOLD", 3)
    for i in range(4):
        (tmp_path / f"m{i}.py").write_text(SYNC if i % 2 else "x = 1\n")
    result = runner.invoke(app, ["migrate", str(tmp_path), "--no-cache"],
                           env={"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "100%" in result.stderr and "8/8" in result.stderr, result.stderr


# 18. stdin, --color, --statistics, exit codes in every command's help
def test_stdin_dry_run_shows_the_diff_under_the_stdin_filename(project: Path) -> None:
    result = runner.invoke(app, ["migrate", "-", "--stdin-filename", "src/app.py", "--diff"],
                           input=SYNC.encode())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("--- a/src/app.py\n+++ b/src/app.py\n")
    data = json.loads(runner.invoke(app, ["migrate", "-", "--format", "json"],
                                    input=SYNC.encode()).stdout)
    assert [f["path"] for f in data["files"]] == ["<stdin>"]


def test_stdin_write_prints_only_the_migrated_source(project: Path) -> None:
    result = runner.invoke(app, ["migrate", "-", "--write"], input=SYNC.encode())
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == migrate_source(SYNC).new_source
    assert (project / "app.py").read_text() == SYNC  # nothing on disk is touched
    latin = "# coding: latin-1\n# caf\xe9\n" + SYNC
    result = runner.invoke(app, ["migrate", "-", "--write"], input=latin.encode("latin-1"))
    assert result.stdout_bytes.decode("latin-1").startswith("# coding: latin-1\n# caf\xe9\n")


def test_stdin_that_fails_is_echoed_as_read_with_exit_2() -> None:
    broken = b"# coding: latin-1\ndef broken(:\n    '\xe9'\n"
    result = runner.invoke(app, ["migrate", "-", "--write", "--stdin-filename", "pkg/m.py"],
                           input=broken)
    assert result.exit_code == 2
    assert result.stdout_bytes == broken
    assert result.stderr.startswith("error: pkg/m.py:2: syntax error")


def test_stdin_finds_the_configuration_and_excludes_of_its_file(project: Path,
                                                                   monkeypatch) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\n[tool.sqla-asyncify]\ntarget = "sync"\n'
        'exclude = ["legacy/"]\n')
    (project / "other.py").write_text("def broken(:\n")  # the project is not read
    monkeypatch.chdir("/")
    result = runner.invoke(app, ["migrate", "-", "--write", "--stdin-filename",
                                 str(project / "app.py")], input=SYNC.encode())
    assert result.exit_code == 0, result.output
    assert "AsyncSession" not in result.stdout and "select(User)" in result.stdout
    excluded = runner.invoke(app, ["migrate", "-", "--write", "-v", "--stdin-filename",
                                   str(project / "legacy" / "app.py")], input=SYNC.encode())
    assert excluded.exit_code == 0 and excluded.stdout == SYNC
    assert "legacy/app.py: skipped: excluded" in excluded.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["-", "app.py"], "give no other PATHS"),
    (["app.py", "--stdin-filename", "x.py"], "only with -"),
    (["-", "--write", "--format", "json"], "stdout is the migrated source"),
    (["app.py", "--statistics", "--format", "sarif"], "statistics print as text or json"),
])
def test_stdin_options_that_cannot_work_together_exit_2(project: Path, args: list[str],
                                                       message: str, monkeypatch) -> None:
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["migrate", *args], input=b"")
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize(("args", "env", "coloured"), [
    (["--color", "always"], {}, True),
    (["--color", "always"], {"NO_COLOR": "1"}, True),
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {"NO_COLOR": "1", "TERM": "xterm"}, False),
    ([], {}, False),  # auto, and the output is no terminal
])
def test_color_auto_always_never(project: Path, args: list[str], env: dict[str, str],
                                 coloured: bool) -> None:
    env = {"NO_COLOR": None, "FORCE_COLOR": None, **env}
    for command in (["migrate", str(project), "--no-cache"], ["status", str(project)]):
        result = runner.invoke(app, [*command, *args], env=env)
        assert result.exit_code == 0, result.output
        assert ("\x1b[" in result.stdout) is coloured, (command, args, env)


def test_statistics_count_per_rule_in_migrate_and_status(project: Path) -> None:
    text = run("migrate", str(project), "--statistics", "--no-cache").stdout
    lines = text.splitlines()
    assert lines[0].split() == ["code", "changes", "TODOs", "run_sync", "summary"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[1:]}
    assert rows["SQA100"] == ["1", "0", "0"] and rows["SQA300"] == ["3", "0", "0"]
    assert "select() executed with await" in text
    data = json.loads(run("migrate", str(project), "--statistics", "--format", "json",
                          "--no-cache").stdout)
    summary = json.loads(run("migrate", str(project), "--format", "json",
                             "--no-cache").stdout)["summary"]
    assert {r["code"]: r["changes"] for r in data} == summary["changes_by_rule"]
    assert run("status", str(project), "--statistics").stdout == text
    assert json.loads(run("status", str(project), "--statistics", "--format", "json").stdout
                      ) == data
    (project / "app.py").write_text(migrate_source(SYNC).new_source)
    assert run("migrate", str(project), "--statistics", "--no-cache").stdout == ""


# 22. help reads like other tools' help
@pytest.mark.parametrize(("command", "usage"), [
    ([], "Usage: sqla-asyncify [OPTIONS] COMMAND [ARGS]..."),
    (["migrate"], "Usage: sqla-asyncify migrate [OPTIONS] PATHS..."),
    (["status"], "Usage: sqla-asyncify status [OPTIONS] [PATH]"),
    (["rules"], "Usage: sqla-asyncify rules [OPTIONS] [CODE]"),
])
def test_every_command_has_readable_help_with_its_exit_codes(command: list[str],
                                                             usage: str) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "100"},
                           prog_name="sqla-asyncify")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith(usage + "\n")
    assert "Exit codes:\n    0 " in text and "\n    2 " in text and "130" in text
    for unreadable in ("{", "<list[", "<str>", "<path>", "<int", "<bool>"):
        assert unreadable not in text, (unreadable, text)


def test_pytest_plugin_is_a_choice(project: Path) -> None:
    assert "--pytest-plugin <asyncio|anyio>" in run("migrate", "-h").stdout
    result = run("migrate", str(project), "--pytest-plugin", "trio")
    assert result.exit_code == 2 and "'trio' is not one of 'asyncio', 'anyio'" in result.stderr
    assert run("migrate", str(project), "--pytest-plugin", "anyio", "--no-cache").exit_code == 0


# 24. a file name holding a colon is reported as it is, escaped per format
def test_a_file_name_with_a_colon_is_reported_as_it_is(project: Path, monkeypatch) -> None:
    monkeypatch.chdir(project)
    (project / "app.py").rename(project / "a:b.py")
    assert "--- a/a:b.py\n+++ b/a:b.py\n" in run("migrate", "a:b.py", "--diff",
                                                  "--no-cache").stdout
    assert "a:b.py " in run("migrate", ".", "--no-cache").stdout
    data = json.loads(run("migrate", ".", "--format", "json", "--no-cache").stdout)
    assert [f["path"] for f in data["files"]] == ["a:b.py"]
    github = run("migrate", ".", "--format", "github", "--no-cache").stdout
    assert github.startswith("::notice file=a%3Ab.py,line=1,")
    sarif = json.loads(run("migrate", ".", "--format", "sarif", "--no-cache").stdout)
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"]["uri"]
    assert uri == "a%3Ab.py" and urllib.parse.unquote(uri) == "a:b.py"
    assert "\na:b.py " in run("status", ".").stdout


# 24. a stub beside a migrated module gets its signatures
STUB = '''\
from sqlalchemy.orm import DeclarativeBase, Mapped, Session

class User(DeclarativeBase):
    id: Mapped[int]

def first_user(session: Session) -> User | None: ...
def main() -> None: ...
'''


def test_a_stub_beside_a_module_is_shown_written_and_counted(project: Path, monkeypatch
                                                            ) -> None:
    monkeypatch.chdir(project)
    (project / "app.pyi").write_text(STUB)
    (project / "alone.pyi").write_text(STUB)  # no module beside it: not picked up
    dry = run("migrate", ".", "--diff", "--no-cache")
    assert "+++ b/app.pyi\n" in dry.stdout
    assert "+async def first_user(session: AsyncSession) -> User | None: ...\n" in dry.stdout
    assert "alone.pyi" not in dry.stdout
    given = json.loads(run("migrate", "app.py", "--format", "json", "--no-cache").stdout)
    assert [f["path"] for f in given["files"]] == ["app.py", "app.pyi"]
    assert given["summary"]["changed"] == 2
    written = run("migrate", ".", "--write", "--no-cache")
    assert written.exit_code == 0 and "│ files rewritten       │ 2 │" in written.stdout
    stub = (project / "app.pyi").read_text()
    assert "from sqlalchemy.ext.asyncio import AsyncSession\n" in stub
    assert "async def main() -> None: ..." in stub
    assert run("migrate", ".", "--check", "--no-cache").exit_code == 0
    assert (project / "alone.pyi").read_text() == STUB
