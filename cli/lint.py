"""The `sqla-asyncify lint` command: checks of async SQLAlchemy code (codes SQA5xx)."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from codemods.config import LintSettings, SettingsError, load_lint_settings
from codemods.lint import LINT_RULES, LintConfig, LintFinding, LintResult, lint_sources
from codemods.lint.baseline import BaselineError, new_findings, read_baseline, write_baseline
from codemods.sources import NotWritten, find_project_root, write_atomic
from codemods.workers import default_jobs

from . import main
from .render import ReportConsole, display_path, github_annotations, print_skipped, sarif_log

LINT_EXIT_CODES_HELP = """\b
Exit codes:
  0    no findings (or only findings the baseline records)
  1    findings
  2    a file could not be read or parsed, a bad option or setting, or an internal error"""


def lint(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders to check.",
                                                       metavar="PATHS")] = None,
    output_format: Annotated[main.Format, typer.Option(
        "--format", help="Report format: text (path:line:col: CODE message), json, github "
                         "(workflow annotations) or sarif.")] = main.Format.text,
    select: Annotated[list[str] | None, typer.Option(
        "--select", metavar="CODES",
        help="Only these lint codes (or prefixes), comma-separated.")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", metavar="CODES",
        help="Skip these lint codes (or prefixes), comma-separated.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", metavar="GLOB", help="Glob of paths to leave out (repeatable).")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help='Also report lazy="select" relationships of models used from async '
                         'code (SQA505: suggest lazy="raise").')] = False,
    fix: Annotated[bool, typer.Option(
        "--fix", help="Apply the fixes that can be proven (SQA500: the loader option).")
    ] = False,
    statistics: Annotated[bool, typer.Option(
        "--statistics", help="Print how many findings each code has instead of the "
                             "findings.")] = False,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", metavar="FILE", help="Report only findings this baseline does not "
                                           "record (see --update-baseline).")] = None,
    update_baseline: Annotated[bool, typer.Option(
        "--update-baseline", help="Record today's findings in the --baseline FILE and exit "
                                  "0: later runs fail only on new ones.")] = False,
    rules_list: Annotated[bool, typer.Option(
        "--rules", help="List the lint rules (`sqla-asyncify rules SQA5xx` shows one) and "
                        "exit.")] = False,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Worker processes (default: the CPU count).")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Do not read or write the index cache.")] = False,
    project_root: Annotated[Path | None, typer.Option(
        "--project-root", help="The whole project, indexed for the analysis (default: the "
                               "nearest folder above PATHS with pyproject.toml or .git).")
    ] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also say which folders and files were skipped, and why.")
    ] = False,
) -> None:
    """Check async SQLAlchemy code for implicit I/O (MissingGreenlet) and asyncio misuse.

    Findings are suppressed like the migration's: `# sqla-asyncify: ignore[SQA501]` on the
    statement (or a statement around it). Settings: `[tool.sqla-asyncify.lint]` in
    pyproject.toml (select, ignore, exclude, strict, baseline).
    """
    if rules_list:
        for rule in LINT_RULES:
            sys.stdout.write(f"{rule.code}  {rule.summary}"
                             f"{'  (--strict)' if rule.strict_only else ''}\n")
        raise typer.Exit(main.EXIT_OK)
    if not paths:
        raise typer.BadParameter("give the files or folders to check", param_hint="PATHS")
    if update_baseline and baseline is None:
        raise typer.BadParameter("--update-baseline needs --baseline FILE")
    settings = _settings(paths[0] if paths else Path.cwd())
    config = LintConfig(select=main._codes(select) or settings.select,
                        ignore=main._codes(ignore) or settings.ignore,
                        strict=strict or settings.strict, jobs=jobs or default_jobs(),
                        cache_dir=None if no_cache else main._cache_dir(paths, project_root))
    _check_codes(config.select | config.ignore)
    baseline = baseline or settings.baseline
    err = ReportConsole(stderr=True, highlight=False)
    sources, context, skipped = main._sources(paths, [*settings.exclude, *(exclude or [])],
                                              project_root)
    print_skipped(err, skipped, verbose)
    results = lint_sources(sources, config, context)
    failed = [r for r in results if r.error is not None]
    for result in failed:
        main._say(f"{display_path(result.path)}:{result.error_line or 1}: {result.error}")
    fixed = _fix(results) if fix else set()
    findings = sorted(f for r in results for f in r.findings
                      if not (r.path in fixed and _fixable(f.code)))
    root = project_root or find_project_root([p for p in paths if p.exists()])
    if update_baseline:
        count = write_baseline(baseline, findings, root)
        err.print(f"recorded {count} finding(s) in {display_path(str(baseline))}",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(main.EXIT_ERROR if failed else main.EXIT_OK)
    covered = 0
    if baseline is not None:
        try:
            findings, covered = new_findings(findings, read_baseline(baseline), root)
        except BaselineError as exc:
            main._say(str(exc))
            raise typer.Exit(main.EXIT_ERROR) from None
    _report(findings, output_format, statistics, covered, len(fixed), failed)
    if failed:
        raise typer.Exit(main.EXIT_ERROR)
    raise typer.Exit(main.EXIT_WORK_LEFT if findings else main.EXIT_OK)


def _settings(start: Path) -> LintSettings:
    try:
        return load_lint_settings(start)
    except SettingsError as exc:
        main._say(str(exc))
        raise typer.Exit(main.EXIT_ERROR) from None


def _check_codes(codes: frozenset[str]) -> None:
    known = {r.code for r in LINT_RULES}
    unknown = sorted(c for c in codes if not any(k.startswith(c) for k in known))
    if unknown:
        raise typer.BadParameter(f"unknown lint code(s): {', '.join(unknown)} "
                                 "(see `sqla-asyncify lint --rules`)")


def _fixable(code: str) -> bool:
    return any(r.code == code and r.fixable for r in LINT_RULES)


def _fix(results: list[LintResult]) -> set[str]:
    """Write each file's fixes (atomic); the paths written."""
    written = set()
    for result in results:
        if result.fixed is None:
            continue
        try:
            write_atomic(result.fixed)
        except NotWritten as exc:
            main._say(f"{display_path(result.path)}: not fixed: {exc}")
            continue
        written.add(result.path)
    return written


def _path(finding: LintFinding) -> str:
    return display_path(finding.path).replace(os.sep, "/")


def _report(findings: list[LintFinding], output_format: main.Format, statistics: bool,
            covered: int, fixed_files: int, failed: list[LintResult]) -> None:
    summaries = {r.code: r.summary for r in LINT_RULES}
    if output_format is main.Format.json:
        by_code = Counter(f.code for f in findings)
        sys.stdout.write(json.dumps({
            "schema_version": 1,
            "findings": [{**f.to_dict(), "path": _path(f)} for f in findings],
            "errors": [{"path": display_path(r.path).replace(os.sep, "/"),
                        "line": r.error_line, "message": r.error} for r in failed],
            "summary": {"findings": len(findings), "by_code": dict(sorted(by_code.items())),
                        "baselined": covered, "fixed_files": fixed_files},
        }, indent=2) + "\n")
        return
    problems = [("error", _path(f), f.line, f.code, f.message, f.col) for f in findings]
    if output_format is main.Format.github:
        sys.stdout.write(github_annotations(problems))
        return
    if output_format is main.Format.sarif:
        sys.stdout.write(sarif_log(problems, summaries.items(), main._version()) + "\n")
        return
    if statistics:
        for code, count in sorted(Counter(f.code for f in findings).items()):
            sys.stdout.write(f"{count:5d}  {code}  {summaries[code]}\n")
    else:
        for f in findings:
            sys.stdout.write(f"{_path(f)}:{f.line}:{f.col}: {f.code} {f.message}\n")
    notes = [f"{len(findings)} finding(s)" if findings else "no findings"]
    if covered:
        notes.append(f"{covered} more recorded in the baseline")
    if fixed_files:
        notes.append(f"fixes written to {fixed_files} file(s)")
    sys.stdout.write(f"{'; '.join(notes)}\n")
