"""Rendering results: rich report, plain unified diff, JSON."""

from __future__ import annotations

import difflib
import json
import os
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from codemods import FileResult, Kind, Status
from codemods.results import RuleStatistics, Tag, rule_statistics
from codemods.rules import RULES_BY_CODE
from codemods.sources import Skipped
from codemods.status import ModuleState, ProjectStatus
from codemods.todo import TODO_PREFIX

_KIND_STYLE = {Kind.CHANGE: "green", Kind.TODO: "yellow", Kind.RUN_SYNC: "magenta",
               Kind.SKIP: "dim"}


class ReportConsole(Console):
    """A rich Console whose reader going away (`sqla-asyncify migrate . | head`) raises
    BrokenPipeError, for the command to exit 141: rich itself would exit 1, the code of
    "--check found work"."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def printable(path: str) -> str:
    """A path as text any terminal takes: bytes of a name that are not UTF-8 (`caf\\xe9.py`)
    are shown as escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def display_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return printable(path)
    return printable(path if relative.startswith("..") else relative)


def unified_diff(result: FileResult) -> str:
    """A diff `git apply` accepts (`a/` and `b/` prefixes, no-newline markers)."""
    name = display_path(result.path).replace(os.sep, "/")
    old = result.old_source.splitlines(keepends=True)
    new = result.new_source.splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines)


def remaining_todos(result: FileResult) -> int:
    return result.new_source.count(TODO_PREFIX)


class Summary:
    def __init__(self, results: Iterable[FileResult], notes: Iterable[str] = ()) -> None:
        self.results = list(results)
        self.notes = list(notes)  # messages about the whole run, each printed once
        self.status = Counter(r.status for r in self.results)
        self.statistics = rule_statistics(self.results)
        self.by_rule = Counter({s.code: s.changes for s in self.statistics if s.changes})
        self.todos = sum(r.count(Kind.TODO) for r in self.results)
        self.markers = sum(remaining_todos(r) for r in self.results)
        self.run_sync = sum(r.count(Kind.RUN_SYNC) for r in self.results)
        # what the audit after colouring found that no rule handled, per code
        self.audit_flags = Counter(f.code for r in self.results for f in r.kept_findings
                                   if f.tag is Tag.AUDIT)

    @property
    def changed(self) -> int:
        return self.status[Status.CHANGED]

    @property
    def failed(self) -> int:
        return self.status[Status.FAILED]

    def to_dict(self) -> dict[str, object]:
        return {
            "files_scanned": len(self.results),
            "changed": self.changed,
            "unchanged": self.status[Status.UNCHANGED],
            "failed": self.failed,
            "changes_by_rule": dict(sorted(self.by_rule.items())),
            "todos_added": self.todos,
            "todo_markers_remaining": self.markers,
            "run_sync_wraps": self.run_sync,
            "audit_flags": dict(sorted(self.audit_flags.items())),
        }


def print_file(console: Console, result: FileResult) -> None:
    """One changed file: its diff, then why each change was made."""
    console.rule(Text(display_path(result.path), style="bold cyan"), align="left")
    console.print(Syntax(unified_diff(result), "diff", theme="ansi_dark"), soft_wrap=True)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("line", justify="right")
    table.add_column("rule")
    table.add_column("kind")
    table.add_column("what and why", overflow="fold")
    for finding in result.findings:
        style = _KIND_STYLE[finding.kind]
        table.add_row(str(finding.line), finding.code, Text(finding.kind.value, style=style),
                      finding.message)
    console.print(table)
    console.print()


def print_failure(console: Console, result: FileResult) -> None:
    where = display_path(result.path) + (f":{result.error_line}" if result.error_line else "")
    console.print(Text(f"error: {where}: {result.error}", style="bold red"), soft_wrap=True)


def print_warnings(console: Console, result: FileResult) -> None:
    for line, message in result.warnings:
        console.print(Text(f"warning: {display_path(result.path)}:{line}: {message}",
                           style="yellow"), soft_wrap=True)


def print_skipped(console: Console, skipped: Iterable[Skipped], verbose: bool) -> None:
    """What discovery left out: files that are not regular files always, the folders the
    skip rules leave out (virtualenvs, build output, ...) with `verbose`."""
    for item in skipped:
        if verbose or not item.verbose:
            folder = "/" if item.path.endswith(os.sep) else ""
            where = display_path(item.path.rstrip(os.sep)) + folder
            console.print(Text(f"{where}: skipped: {item.reason}", style="dim"), soft_wrap=True)


def print_summary(console: Console, summary: Summary, wrote: bool, check: bool) -> None:
    data = summary.to_dict()
    table = Table(title="sqla-asyncify summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    verb = "rewritten" if wrote else "would change"
    table.add_row("files scanned", str(data["files_scanned"]))
    table.add_row(f"files {verb}", str(data["changed"]))
    table.add_row("files unchanged", str(data["unchanged"]))
    table.add_row("files failed", Text(str(data["failed"]),
                                       style="red" if summary.failed else ""))
    for code, count in sorted(summary.by_rule.items()):
        table.add_row(f"  changes {code}", str(count))
    table.add_row("TODOs added", Text(str(summary.todos), style="yellow" if summary.todos else ""))
    table.add_row("TODO markers in files", str(summary.markers))
    table.add_row("run_sync wraps", str(summary.run_sync))
    for code, count in sorted(summary.audit_flags.items()):
        table.add_row(f"  audit {code}", Text(str(count), style="yellow"))
    console.print(table)
    print_notes(console, summary.notes)
    if not wrote and summary.changed and not check and not summary.failed:
        console.print("Dry run: nothing was written. Apply with --write.", style="dim")


def print_notes(console: Console, notes: Iterable[str]) -> None:
    for note in notes:
        console.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)


def statistics_text(rows: Iterable[RuleStatistics]) -> str:
    """`--statistics`: a line a rule, aligned, its summary last (like `ruff --statistics`)."""
    summaries = {r.code: r.summary for r in RULES_BY_CODE}
    lines = [f"{'code':<8}{'changes':>8}{'TODOs':>7}{'run_sync':>10}  summary"]
    lines += [f"{r.code:<8}{r.changes:>8}{r.todos:>7}{r.run_sync:>10}  {summaries.get(r.code, '')}"
              for r in rows]
    return "".join(f"{line}\n" for line in lines) if len(lines) > 1 else ""


def statistics_json(rows: Iterable[RuleStatistics]) -> str:
    summaries = {r.code: r.summary for r in RULES_BY_CODE}
    return json.dumps([{**r.to_dict(), "summary": summaries.get(r.code, "")} for r in rows],
                      indent=2)


JSON_SCHEMA_VERSION = 1  # raised when a key changes meaning or goes away


def json_report(summary: Summary) -> str:
    return json.dumps({"schema_version": JSON_SCHEMA_VERSION, "summary": summary.to_dict(),
                       "notes": summary.notes,
                       "files": [r.to_dict() for r in summary.results]}, indent=2)


def _problems(summary: Summary) -> Iterator[tuple[str, str, int, str, str]]:
    """(level, path, line, rule code, message) for each failure, warning, TODO and changed
    file: what CI annotations and SARIF show."""
    for r in summary.results:
        path = display_path(r.path).replace(os.sep, "/")
        if r.error is not None:
            yield "error", path, r.error_line or 1, "", r.error
        for line, message in r.warnings:
            yield "warning", path, line, "", message
        for f in r.kept_findings:
            if f.kind is Kind.TODO:
                yield "warning", path, f.line or 1, f.code, f.message
        if r.changed:
            codes = sorted({f.code for f in r.kept_findings if f.kind is Kind.CHANGE})
            yield "notice", path, 1, codes[0] if codes else "", (
                f"would change ({', '.join(codes)}); run sqla-asyncify migrate --write")


def _escape(text: str, properties: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if properties else text


def github_report(summary: Summary) -> str:
    """GitHub Actions workflow commands: one annotation a problem."""
    return github_annotations(_problems(summary))


# (level, path, line, rule code, message[, column]): what annotations and SARIF show
Problem = tuple[str, str, int, str, str] | tuple[str, str, int, str, str, int]


def github_annotations(problems: Iterable[Problem]) -> str:
    """One workflow command a problem (`lint` reports its findings this way too)."""
    lines = []
    for level, path, line, code, message, *column in problems:
        title = f",title={_escape('sqla-asyncify ' + code, True)}" if code else ""
        col = f",col={column[0]}" if column else ""
        lines.append(f"::{level} file={_escape(path, True)},line={line}{col}{title}::"
                     f"{_escape(message)}")
    return "".join(f"{line}\n" for line in lines)


def _uri(path: str) -> str:
    """A path as a URI reference (RFC 3986): `a:b.py` is `a%3Ab.py` (else its `a:` reads as a
    scheme), spaces and bytes that are not UTF-8 percent-encoded."""
    return urllib.parse.quote(os.fsencode(path), safe="/")


def sarif_report(summary: Summary, version: str) -> str:
    """SARIF 2.1.0: one run, a result a problem, the rules with their summaries."""
    return sarif_log(_problems(summary), [(r.code, r.summary) for r in RULES_BY_CODE], version)


def sarif_log(problems: Iterable[Problem], rules: Iterable[tuple[str, str]],
              version: str) -> str:
    """A SARIF 2.1.0 log of `problems`, with the `(code, summary)` of each rule."""
    levels = {"error": "error", "warning": "warning", "notice": "note"}
    results = [{
        "ruleId": code or "sqla-asyncify",
        "level": levels[level],
        "message": {"text": message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(path)}, "region": {
            "startLine": line, **({"startColumn": column[0]} if column else {})}}}],
    } for level, path, line, code, message, *column in problems]
    rules = [{"id": code, "shortDescription": {"text": summary}} for code, summary in rules]
    return json.dumps({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "sqla-asyncify", "version": version,
                                      "rules": rules}}, "results": results}],
    }, indent=2)


_STATE_STYLE = {"migrated": "green", "blocked": "yellow", "to do": "cyan", "failed": "bold red",
                "no database code": "dim"}


def _count(value: int, added: int = 0) -> Text:
    text = Text(str(value), style="" if value else "dim")
    if added:
        text.append(f" +{added}", style="yellow")
    return text


def print_status(console: Console, project: ProjectStatus) -> None:
    """`sqla-asyncify status`: one row per module, what blocks each, then the progress."""
    root = display_path(project.root)
    table = Table(show_header=True, header_style="bold", title_justify="left",
                  title=f"sqla-asyncify status of {root}", box=None, pad_edge=False,
                  padding=(0, 1, 0, 0))
    names = [_relative(m.path, project.root) for m in project.modules]
    table.add_column("module", overflow="fold",
                     min_width=min(24, max((len(n) for n in names), default=6)))
    table.add_column("state", no_wrap=True)
    # 80 columns hold a 24-character module and every column
    for name in ("queries", "sessions", "async\ndefs", "run_sync", "TODOs"):
        table.add_column(name, justify="right")
    for module, name in zip(project.modules, names, strict=True):
        state = module.state.value
        table.add_row(name, Text(state, style=_STATE_STYLE[state]),
                      _count(module.legacy_queries), _count(module.sync_sessions),
                      _count(module.functions_to_async), _count(module.run_sync_wraps_left),
                      _count(module.todo_markers, module.todos_to_add))
    console.print(table)
    blocked = [m for m in project.modules if m.blockers or m.error is not None]
    if blocked:
        console.print(Text("What blocks it", style="bold"))
    for module in blocked:
        where = display_path(module.path)
        if module.error is not None:
            line = f":{module.error_line}" if module.error_line else ""
            console.print(Text(f"{where}{line}: error: {module.error}", style="red"),
                          soft_wrap=True)
        for blocker in module.blockers:
            code = f"{blocker.code}: " if blocker.code else ""
            console.print(f"{where}:{blocker.line}: {code}{blocker.message}", markup=False,
                          soft_wrap=True)
    print_skipped(console, project.skipped, verbose=False)
    console.print(status_line(project), markup=False, soft_wrap=True)


def _relative(path: str, root: str) -> str:
    """A module's path under the project root (the table's title names the root)."""
    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        return display_path(path)
    return printable(relative.as_posix() if relative.parts else Path(path).name)


def status_line(project: ProjectStatus) -> str:
    states = project.states
    total = project.with_database_code
    if not total:
        return f"No module with database code ({len(project.modules)} modules scanned)."
    percent = int(100 * project.migrated / total)  # floor: 99% until the last one is done
    rest = ", ".join(f"{states[s]} {s.value}" for s in (ModuleState.TO_DO, ModuleState.BLOCKED,
                                                         ModuleState.FAILED) if states[s])
    return (f"{project.migrated} of {total} modules with database code migrated ({percent}%)"
            + (f"; {rest}" if rest else ""))
