"""The `sqla-asyncify` command: arguments, progress, rendering and exit codes."""

from __future__ import annotations

import enum
import functools
import hashlib
import importlib.metadata
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand
from typer.exceptions import TyperException

from codemods import RULES, Config, FileResult, Status
from codemods.config import PYTEST_PLUGINS, Settings, SettingsError, load_settings
from codemods.engine import iter_migrate
from codemods.lint import LINT_RULES
from codemods.results import RuleStatistics
from codemods.rules import RULES_BY_CODE, SelectionError, resolve_selection
from codemods.sources import (
    NotWritten,
    Skipped,
    SourceFile,
    discover,
    encoded,
    find_project_root,
    is_excluded,
    read_sources,
    real_path,
    write_atomic,
)
from codemods.status import project_status
from codemods.workers import default_jobs

from .render import (
    ReportConsole,
    Summary,
    display_path,
    github_report,
    json_report,
    print_failure,
    print_file,
    print_notes,
    print_skipped,
    print_status,
    print_summary,
    print_warnings,
    sarif_report,
    statistics_json,
    statistics_text,
    unified_diff,
)

_INTERRUPTED_HELP = """\
  130  interrupted (Ctrl-C); 143: terminated (SIGTERM); 141: stdout closed early"""
EXIT_CODES_HELP = """\b
Exit codes:
  0    done (a dry run, or the changes written); with --check: nothing left to do
  1    --check: a file would change, or TODO markers remain; --only-given: another
       file must change with the given ones
  2    a file could not be read, migrated or written (each says why on stderr),
       a bad option, or an internal error
""" + _INTERRUPTED_HELP
STATUS_EXIT_CODES_HELP = """\b
Exit codes:
  0    the report was printed (modules that failed are listed in it)
  2    a bad option or configuration, or an internal error
""" + _INTERRUPTED_HELP
RULES_EXIT_CODES_HELP = """\b
Exit codes:
  0    the rules were printed
  2    no rule has that code
""" + _INTERRUPTED_HELP


class _ReadableCommand(TyperCommand):
    """Help that names arguments as other tools do (`PATHS...`, `[CODE]`), not as typer
    does (`{paths}... <list[Path]>`)."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _argument_label(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((_argument_label(param), record[1]))
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


def _argument_label(param: Any) -> str:
    """An argument as usage and help name it: its metavar, `...` when it takes several."""
    name = param.metavar or (param.name or "").upper()
    return f"{name}..." if param.nargs != 1 else name


app = typer.Typer(
    help="Migrate synchronous SQLAlchemy code to SQLAlchemy 2.x asyncio.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version() -> str:
    try:
        return importlib.metadata.version("sqla-asyncify")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout
        return "0.1.0"


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"sqla-asyncify {_version()}\n")
        raise typer.Exit(0)


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Migrate synchronous SQLAlchemy code to SQLAlchemy 2.x asyncio."""

EXIT_OK, EXIT_WORK_LEFT, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # what a shell reports for a reader gone early
_PROGRESS_THRESHOLD = 50  # files; below this a run is too short for a progress bar


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    github = "github"  # workflow annotations
    sarif = "sarif"  # SARIF 2.1.0


class StatusFormat(str, enum.Enum):
    text = "text"
    json = "json"


class Target(str, enum.Enum):
    async_ = "async"
    sync = "sync"


PytestPlugin = enum.Enum("PytestPlugin", {name: name for name in PYTEST_PLUGINS}, type=str)


class Color(str, enum.Enum):
    auto = "auto"
    always = "always"
    never = "never"


_color: ContextVar[Color] = ContextVar("color", default=Color.auto)  # of the running command


def _set_color(value: Color | str) -> Color:
    _color.set(Color(value))
    return Color(value)


ColorOption = Annotated[Color, typer.Option(
    "--color", callback=_set_color,
    help="Colour the report: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces "
         "it), always or never.")]
StatisticsOption = Annotated[bool, typer.Option(
    "--statistics", help="Print, per rule, the lines it changes, the TODOs it adds and its "
                         "run_sync wraps, instead of the report.")]


def _console(stderr: bool = False, **options: object) -> ReportConsole:
    """A console for the report, coloured as `--color` of the running command says."""
    color = _color.get()
    if color is Color.never:
        options["color_system"] = None
    elif color is Color.always:
        stream = sys.stderr if stderr else sys.stdout
        options.update(no_color=False, color_system="auto" if stream.isatty() else "standard")
    return ReportConsole(stderr=stderr, highlight=False, **options)


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so the run unwinds as on Ctrl-C (a write in
    progress removes its temp file; worker processes end with this one)."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def _guarded(command: Callable[..., None]) -> Callable[..., None]:
    """A command whose interruption or crash ends in one line on stderr and its exit code,
    never a traceback."""

    @functools.wraps(command)
    def run(*args: object, **kwargs: object) -> None:
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except KeyboardInterrupt:
            _say("interrupted: files not written yet were left as they were")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except _Terminated:
            _say("terminated: files not written yet were left as they were")
            raise typer.Exit(EXIT_TERMINATED) from None
        except BrokenPipeError:  # `sqla-asyncify migrate . | head`: the reader has gone
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except Exception as exc:  # noqa: BLE001 - a bug: one line and exit 2, not a traceback
            _say(f"internal error ({type(exc).__name__}: {exc}); please report it")
            raise typer.Exit(EXIT_ERROR) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return run


def _say(message: str) -> None:
    _console(stderr=True).print(Text(f"sqla-asyncify: {message}", style="bold red"),
                                soft_wrap=True)


def _codes(values: list[str] | None) -> frozenset[str]:
    return frozenset(c.strip().upper() for v in values or [] for c in v.split(",") if c.strip())


def _check_codes(codes: frozenset[str]) -> None:
    known = {r.code for r in RULES}
    unknown = sorted(c for c in codes if not any(k.startswith(c) for k in known))
    if unknown:
        raise typer.BadParameter(f"unknown rule code(s): {', '.join(unknown)} "
                                 "(see `sqla-asyncify rules`)")


STDIN = Path("-")
STDIN_NAME = "<stdin>"  # the file on stdin without --stdin-filename


@app.command(cls=_ReadableCommand, epilog=EXIT_CODES_HELP)
@_guarded
def migrate(
    paths: Annotated[list[Path], typer.Argument(
        help="Files or folders to migrate; - reads one file from stdin.", metavar="PATHS")],
    write: Annotated[bool, typer.Option(
        "--write", help="Apply the changes (atomic); with -, print the migrated source on "
                        "stdout.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print only a plain unified diff.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 1 if any file would change or TODO markers remain.")] = False,
    output_format: Annotated[Format, typer.Option(
        "--format", help="Report format: text, json, github (workflow annotations) or sarif.")
    ] = (
        Format.text),
    select: Annotated[list[str] | None, typer.Option(
        "--select", metavar="CODES",
        help="Only these rule codes (or prefixes), comma-separated.")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", metavar="CODES",
        help="Skip these rule codes (or prefixes), comma-separated.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", metavar="GLOB", help="Glob of paths to leave out (repeatable).")] = None,
    target: Annotated[Target | None, typer.Option(
        "--target", help="async: AsyncSession + await (default); sync: 2.0-style select() "
                         "on the same synchronous sessions.")] = None,
    pytest_plugin: Annotated[PytestPlugin | None, typer.Option(
        "--pytest-plugin", help="How async tests are marked: asyncio (pytest-asyncio, "
                                "default) or anyio.")] = None,
    strict_loading: Annotated[bool, typer.Option(
        "--strict-loading", help='Add lazy="raise" to relationships without a loading '
                                 "strategy, so unproven loads fail loudly in tests.")] = False,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, metavar="N",
        help="Worker processes (default: the CPU count; small runs use one).")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Do not read or write the index cache (in "
                           "~/.cache/sqla-asyncify, or $XDG_CACHE_HOME).")] = False,
    project_root: Annotated[Path | None, typer.Option(
        "--project-root", metavar="DIR",
        help="The whole project, indexed for an incremental run (default: the nearest "
             "folder above PATHS with pyproject.toml or .git).")] = None,
    stdin_filename: Annotated[Path | None, typer.Option(
        "--stdin-filename", metavar="PATH",
        help="With -: the file's path, for messages, pyproject.toml and excludes, and its "
             "module name.")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also say which folders and files were skipped, and why.")
    ] = False,
    only_given: Annotated[bool, typer.Option(
        "--only-given", help="Write only the files given as PATHS (the pre-commit hook "
                             "passes the staged files): other files of the project that "
                             "must change with them are listed, and the run exits 1.")
    ] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print only problems (failures, warnings, files that must "
                              "change too) on stderr: no diffs, no summary.")] = False,
    statistics: StatisticsOption = False,
    color: ColorOption = Color.auto,
    show_settings: Annotated[bool, typer.Option(
        "--show-settings", help="Print the configuration this run would use (pyproject.toml "
                                "and the command line) and exit.")] = False,
) -> None:
    """Show (default), check or apply the migration of PATHS.

    Folders skipped: virtualenvs (a folder with pyvenv.cfg), hidden folders, caches and
    installed packages (__pycache__, node_modules, site-packages), build/ and dist/ directly
    under a project root; -v lists them. A named pipe or other non-regular file is skipped
    with a line saying so.

    With - the source is read from stdin and migrated as one file (the rest of the project is
    not read); --stdin-filename names it.
    """
    stdin = STDIN in paths
    _check_options(paths, stdin, stdin_filename, write=write, check=check, diff=diff,
                   output_format=output_format, statistics=statistics)
    start = (stdin_filename or Path.cwd()) if stdin else paths[0]
    settings = _load_settings(start)
    config = _config(settings, select=_codes(select), ignore=_codes(ignore),
                     target=target.value if target else None,
                     pytest_plugin=pytest_plugin.value if pytest_plugin else None,
                     jobs=jobs or default_jobs(), strict_loading=strict_loading,
                     cache_dir=None if no_cache or stdin else _cache_dir(paths, project_root))
    out = _console(soft_wrap=output_format is not Format.text or diff)
    err = _console(stderr=True)

    excludes = [*settings.exclude, *(exclude or [])]
    if show_settings:
        _show_settings(config, excludes, project_root or find_project_root([start]))
        raise typer.Exit(EXIT_OK)
    if stdin:
        piped_bytes = sys.stdin.buffer.read()
        piped, skipped = _stdin_source(piped_bytes, stdin_filename, excludes, project_root)
        sources, context = [] if skipped else [piped], []
    else:
        sources, context, skipped = _sources(paths, excludes, project_root)
    print_skipped(err, skipped, verbose)
    notes: list[str] = []
    given = {s.path for s in sources} if only_given else None
    report = output_format is Format.text and not (diff or quiet or statistics)
    results = _run(sources, config, err, out, text=report and not (stdin and write),
                   context=context, notes=notes, write=write and not stdin, given=given)
    if stdin and write:
        migrated = results[0] if results else piped.new_result()
        _print_stdin_source(migrated, piped_bytes)
        print_notes(err, notes)
        raise typer.Exit(EXIT_ERROR if migrated.status is Status.FAILED else EXIT_OK)
    held_back = [r for r in results if given is not None and r.path not in given and r.changed]
    for result in held_back:
        err.print(Text(f"{display_path(result.path)}: must change too (it calls code this run "
                       "made async); not written: pass it as well", style="yellow"),
                  soft_wrap=True)
    summary = Summary(results, notes)  # after writing: a write that failed fails its file
    if statistics:
        _print_statistics(summary.statistics, output_format)
        print_notes(err, notes)
    elif output_format is Format.json:
        sys.stdout.write(json_report(summary) + "\n")  # plain: rich would re-parse it
    elif output_format is Format.github:
        sys.stdout.write(github_report(summary))
    elif output_format is Format.sarif:
        sys.stdout.write(sarif_report(summary, _version()) + "\n")
    elif diff:
        for result in results:
            if result.changed:
                sys.stdout.write(unified_diff(result))
        print_notes(err, notes)  # stdout stays a diff `git apply` takes
    elif not quiet:
        print_summary(out, summary, wrote=write, check=check)
    if summary.failed:
        raise typer.Exit(EXIT_ERROR)
    if held_back or check and (summary.changed or summary.markers):
        raise typer.Exit(EXIT_WORK_LEFT)
    raise typer.Exit(EXIT_OK)


def _check_options(paths: list[Path], stdin: bool, stdin_filename: Path | None, *,
                   write: bool, check: bool, diff: bool, output_format: Format,
                   statistics: bool) -> None:
    """Combinations of options that cannot make sense are usage errors (exit 2)."""
    if write and check:
        raise typer.BadParameter("--write and --check exclude each other")
    if stdin and len(paths) > 1:
        raise typer.BadParameter("- (stdin) is one file: give no other PATHS with it",
                                 param_hint="PATHS")
    if stdin_filename is not None and not stdin:
        raise typer.BadParameter("only with - (the source on stdin)",
                                 param_hint="--stdin-filename")
    if stdin and write and (diff or statistics or output_format is not Format.text):
        raise typer.BadParameter("with - and --write stdout is the migrated source: no "
                                 "report format, --diff or --statistics", param_hint="--write")
    if statistics and (diff or output_format not in (Format.text, Format.json)):
        raise typer.BadParameter("statistics print as text or json, not with --diff",
                                 param_hint="--statistics")


def _stdin_source(data: bytes, filename: Path | None, excludes: list[str],
                  project_root: Path | None) -> tuple[SourceFile, list[Skipped]]:
    """The file on stdin, named `filename` (for messages and its module name), migrated on
    its own like one file given: the rest of its project is not read. Excluded by the
    project's excludes, it is left as it is (and said with -v)."""
    name = str(filename) if filename else STDIN_NAME
    source = SourceFile.from_bytes(name, data)
    root = project_root or find_project_root([filename or Path.cwd()])
    if filename and root and is_excluded(Path(os.path.abspath(filename)), root, excludes):
        return source, [Skipped(name, "excluded", verbose=True)]
    return source, []


def _print_stdin_source(result: FileResult, data: bytes) -> None:
    """`migrate - --write`: the migrated source on stdout, in its encoding; the bytes as
    read when it failed (an editor replacing its buffer with it loses nothing)."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data if result.status is Status.FAILED else encoded(result))
    sys.stdout.flush()


def _print_statistics(rows: list[RuleStatistics], output_format: Format | StatusFormat
                      ) -> None:
    if output_format.value == "json":
        sys.stdout.write(statistics_json(rows) + "\n")
    else:
        sys.stdout.write(statistics_text(rows))


def _load_settings(start: Path) -> Settings:
    """`[tool.sqla-asyncify]` of the project; one that cannot be used exits 2, saying why."""
    try:
        return load_settings(start)
    except SettingsError as exc:
        _say(str(exc))
        raise typer.Exit(EXIT_ERROR) from None


def _show_settings(config: Config, excludes: list[str], root: Path | None) -> None:
    """The configuration a run would use, one `key = value` a line (TOML-like)."""
    resolved, _ = resolve_selection(config)
    rows = {
        "project-root": str(root) if root else "(none: no pyproject.toml or .git above)",
        "target": config.target,
        "select": sorted(config.select) or "(every rule)",
        "ignore": sorted(config.ignore),
        "rules-run": [r.code for r in RULES_BY_CODE if resolved.target in r.targets
                      and resolved.enables(r.code)],
        "exclude": excludes,
        "pytest-plugin": config.pytest_plugin,
        "strict-loading": config.strict_loading,
        "console-scripts": sorted(config.console_scripts),
        "python": ".".join(map(str, config.python)),
        "jobs": config.jobs,
        "cache-dir": config.cache_dir or "(no cache)",
    }
    for key, value in rows.items():
        shown = json.dumps(value) if not isinstance(value, str) or key in (
            "target", "pytest-plugin") else value
        sys.stdout.write(f"{key} = {shown}\n")


def _config(settings: Settings, **overrides: object) -> Config:
    """The run's Config: the project's settings, overridden by the command line."""
    try:
        config = Config.from_settings(settings, **overrides)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    _check_codes(config.select | config.ignore)
    try:  # the run pulls in what the selection needs (and says so); refused: exit 2 here
        resolve_selection(config)
    except SelectionError as exc:
        raise typer.BadParameter(str(exc)) from None
    return config


def _cache_dir(paths: list[Path], project_root: Path | None) -> str | None:
    """Outside the project (a dry run writes nothing there): the user's cache folder."""
    root = project_root or find_project_root([p for p in paths if p.exists()])
    if root is None:
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    named = str(real_path(root)).encode("utf-8", "surrogateescape")  # any bytes a path holds
    key = hashlib.blake2b(named, digest_size=8).hexdigest()
    return str(base / "sqla-asyncify" / key)


def _sources(paths: list[Path], excludes: list[str], project_root: Path | None
             ) -> tuple[list[SourceFile], list[SourceFile], list[Skipped]]:
    """The files to migrate, the rest of their project (context for an incremental run), and
    what discovery left out."""
    root = project_root or find_project_root([p for p in paths if p.exists()])
    sources, skipped = read_sources(discover(paths, excludes, root))
    if root is None:
        return sources, [], skipped
    selected = {real_path(s.path) for s in sources}
    context = [SourceFile.read(p) for p in discover([root], excludes, root)
               if isinstance(p, Path) and real_path(p) not in selected]
    return sources, context, skipped


def _write(result: FileResult) -> None:
    """Write a changed file; one that cannot be written fails alone, as it was."""
    try:
        write_atomic(result)
    except NotWritten as exc:
        result.error, result.error_line = str(exc), None
        result.new_source = result.old_source
    except Exception as exc:  # noqa: BLE001 - a bug fails this file's write, not the run
        result.error, result.error_line = (
            f"internal error while writing ({type(exc).__name__}: {exc}); the file was left "
            "as it was — please report it"), None
        result.new_source = result.old_source


def _run(sources: list[SourceFile], config: Config, err: Console, out: Console,
         text: bool, context: list[SourceFile] | None = None,
         notes: list[str] | None = None, write: bool = False,
         given: set[str] | None = None) -> list[FileResult]:
    """Migrate (and with `write`, write each file as soon as it is final), printing each
    changed file's report then (text mode) and each failure on stderr (every mode); messages
    about the whole run are added to `notes`."""
    results: list[FileResult] = []
    show_progress = err.is_terminal and len(sources) >= _PROGRESS_THRESHOLD
    progress = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                        TaskProgressColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("eta"), TimeRemainingColumn(), console=err,
                        disable=not show_progress)
    with progress:
        # Each file passes two stages (rewrite, then colouring) before it is final.
        total = 2 * len(sources)
        task = progress.add_task("migrating", total=total)
        for result in iter_migrate(sources, config, context or [],
                                   progress=lambda _path: progress.advance(task),
                                   notes=None if notes is None else notes.append):
            if write and result.changed and (given is None or result.path in given):
                _write(result)
            results.append(result)
            print_warnings(err, result)
            if text and result.changed:
                print_file(out, result)
            elif result.status is Status.FAILED:
                print_failure(err, result)
        # files that fail early or need no second stage tick once: the bar ends full
        progress.update(task, completed=total)
    order = {source.path: i for i, source in enumerate(sources)}
    return sorted(results, key=lambda r: (order.get(r.path, len(order)), r.path))


@app.command(cls=_ReadableCommand, epilog=RULES_EXIT_CODES_HELP)
@_guarded
def rules(
    code: Annotated[str | None, typer.Argument(help="Show one rule in full.", metavar="CODE")
                    ] = None,
    color: ColorOption = Color.auto,
) -> None:
    """List every migration rule (sorted by code); `rules CODE` shows one, SQA5xx lint rules too."""
    out = _console(soft_wrap=not sys.stdout.isatty())
    # the listing is the migration's (`lint --rules` lists lint's); one code may be either
    chosen = [r for r in RULES_BY_CODE if code is None or r.code == code.upper()] or [
        r for r in LINT_RULES if code is not None and r.code == code.upper()]
    if not chosen:
        raise typer.BadParameter(f"no rule {code!r} (see `sqla-asyncify rules`)")
    if code is None and not sys.stdout.isatty():  # piped: one plain line a rule, for grep
        for rule in chosen:
            sys.stdout.write(f"{rule.code}  {rule.summary}\n")
        return
    if code is None:
        table = Table(show_header=True, header_style="bold")
        table.add_column("code")
        table.add_column("summary")
        for rule in chosen:
            table.add_row(rule.code, rule.summary)
        out.print(table)
        out.print("`sqla-asyncify rules CODE` shows a rule's before/after.", style="dim")
        return
    rule = chosen[0]
    out.print(f"[bold]{rule.code}[/bold]  {rule.summary}\n")
    out.print(rule.example(), markup=False)


@app.command(cls=_ReadableCommand, epilog=STATUS_EXIT_CODES_HELP)
@_guarded
def status(
    path: Annotated[Path, typer.Argument(
        help="The project (or package) to report on.", metavar="PATH")] = (
        Path(".")),
    output_format: Annotated[StatusFormat, typer.Option("--format", help="Report format.")
                             ] = StatusFormat.text,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", metavar="GLOB", help="Glob of paths to leave out (repeatable).")] = None,
    statistics: StatisticsOption = False,
    color: ColorOption = Color.auto,
) -> None:
    """How far the migration is, per module: migrated, to do, blocked (dry run)."""
    if not path.exists():
        raise typer.BadParameter(f"{path}: no such file or directory", param_hint="PATH")
    settings = _load_settings(path)
    config = _config(settings)
    report = project_status(path, [*settings.exclude, *(exclude or [])], config)
    if statistics:
        _print_statistics(report.statistics, output_format)
    elif output_format is StatusFormat.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        print_status(_console(), report)
    raise typer.Exit(EXIT_OK)


# `lint` lives in its own module (it uses the helpers above)
from .lint import LINT_EXIT_CODES_HELP, lint  # noqa: E402

app.command(epilog=LINT_EXIT_CODES_HELP)(_guarded(lint))
