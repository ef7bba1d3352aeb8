"""Per-file outcomes and the findings rules report: plain values, no I/O."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field


class Kind(str, enum.Enum):
    """What a finding records."""

    CHANGE = "change"  # the rule rewrote code
    TODO = "todo"  # a marker was left for a human
    RUN_SYNC = "run_sync"  # legacy code kept working behind `await session.run_sync(...)`
    SKIP = "skip"  # the rule saw work but held back, with the reason


class Tag(str, enum.Enum):
    """What a finding is about, for tools that count findings (`status`) without reading
    their messages."""

    NONE = ""
    ASYNC_DEF = "async-def"  # a function became `async def`
    QUERY_VARIABLE = "query-variable"  # a stored query, converted where it runs
    AUDIT = "audit"  # the audit after colouring found something no rule handled


@dataclass(frozen=True, order=True)
class Finding:
    line: int
    code: str
    kind: Kind
    message: str
    tag: Tag = Tag.NONE

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "code": self.code, "kind": self.kind.value,
                "message": self.message, "tag": self.tag.value or None}


class Status(str, enum.Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass
class FileResult:
    """The outcome for one file: old text, new text, findings, or an error."""

    path: str
    old_source: str = ""
    new_source: str = ""
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    error_line: int | None = None
    # Bytes-level details needed to write the file back exactly as it was encoded.
    encoding: str = "utf-8"
    newline: str = "\n"
    has_bom: bool = False
    digest: str | None = None  # of the bytes read: the write refuses a file changed since
    # (line, message) about the file as read that is no finding of a rule: a malformed
    # suppression marker
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def status(self) -> Status:
        if self.error is not None:
            return Status.FAILED
        return Status.CHANGED if self.new_source != self.old_source else Status.UNCHANGED

    @property
    def changed(self) -> bool:
        return self.status is Status.CHANGED

    @property
    def kept_findings(self) -> list[Finding]:
        """The findings of what the file now holds: none for a file that failed (it was left
        as it was)."""
        return [] if self.error is not None else self.findings

    def count(self, kind: Kind) -> int:
        return sum(1 for f in self.kept_findings if f.kind is kind)

    def changed_lines(self) -> set[tuple[str, int]]:
        """(rule code, line) of each change kept: a line rewritten for three reasons by one
        rule counts once for it."""
        return {(f.code, f.line) for f in self.kept_findings if f.kind is Kind.CHANGE}

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "status": self.status.value,
            "error": None if self.error is None else {"line": self.error_line,
                                                       "message": self.error},
            "changes": [f.to_dict() for f in self.kept_findings if f.kind is Kind.CHANGE],
            "todos": [f.to_dict() for f in self.kept_findings if f.kind is Kind.TODO],
            "run_sync": [f.to_dict() for f in self.kept_findings if f.kind is Kind.RUN_SYNC],
            "skips": [f.to_dict() for f in self.kept_findings if f.kind is Kind.SKIP],
            "warnings": [{"line": line, "message": message} for line, message in self.warnings],
        }


@dataclass(frozen=True)
class RuleStatistics:
    """What one rule did over a run (`--statistics`): lines changed (a line rewritten for
    several reasons counts once), TODOs added and `run_sync` wraps."""

    code: str
    changes: int = 0
    todos: int = 0
    run_sync: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "changes": self.changes, "todos": self.todos,
                "run_sync": self.run_sync}


def rule_statistics(results: Iterable[FileResult]) -> list[RuleStatistics]:
    """Per rule, sorted by code, what the results hold (failed files count nothing)."""
    results = list(results)
    changes = Counter(code for r in results for code, _ in r.changed_lines())
    todos = Counter(f.code for r in results for f in r.kept_findings if f.kind is Kind.TODO)
    run_sync = Counter(f.code for r in results for f in r.kept_findings
                       if f.kind is Kind.RUN_SYNC)
    return [RuleStatistics(code, changes[code], todos[code], run_sync[code])
            for code in sorted({*changes, *todos, *run_sync})]
