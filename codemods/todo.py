"""The text formats users see in their files: the TODO marker and the suppression comment.

A marker is `# TODO(sqla-asyncify CODE): message`; `--check`, `status` and the report count
them. `# sqla-asyncify: ignore` (every rule) or `# sqla-asyncify: ignore[SQA401, SQA4]` (codes
or prefixes) on a statement keeps those rules away from it, like `noqa`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TODO_PREFIX = "# TODO(sqla-asyncify"
ALL_CODES = "*"  # a bare `ignore`: every rule
_SUPPRESSION_EXACT = re.compile(r"#\s*sqla-asyncify\s*:\s*ignore")
_SUPPRESSION_START = re.compile(_SUPPRESSION_EXACT.pattern, re.IGNORECASE)
# what may follow `ignore`: nothing (every rule) or `[CODE, ...]` with codes or prefixes
# (`SQA2`), then the end of the comment or another comment (`# why`)
_SUPPRESSION_TAIL = re.compile(r"(?:\[(?P<codes>[^\]]*)\])?\s*(?:#.*)?$")
_CODE = re.compile(r"SQA[0-9]{0,3}")
MALFORMED = ("malformed suppression marker (suppresses nothing): write `# sqla-asyncify: "
             "ignore` or `# sqla-asyncify: ignore[SQA201, SQA4]` with upper-case codes or "
             "prefixes separated by commas")
# Everything after the prefix is optional: a marker edited by hand still counts.
_MARKER = re.compile(re.escape(TODO_PREFIX) + r"\s*(?P<code>[A-Z]+[0-9]*)?\)?:?\s*(?P<msg>.*)")


def todo_comment(code: str, message: str) -> str:
    """The marker comment for a TODO of rule `code`."""
    return f"{TODO_PREFIX} {code}): {message}"


def _marker(line: str) -> re.Match[str] | None:
    start = line.find(TODO_PREFIX)
    return _MARKER.match(line, start) if start >= 0 else None


def marker_code(comment: str) -> str | None:
    """The rule code of the TODO marker a comment holds ("" for one without), or None."""
    match = _marker(comment)
    return None if match is None else match.group("code") or ""


@dataclass(frozen=True)
class Marker:
    """A TODO marker found in a file's text."""

    line: int
    code: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "code": self.code, "message": self.message}


def find_markers(text: str) -> list[Marker]:
    """Every TODO marker in `text`, with its 1-based line."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _marker(line)
        if match is not None:
            found.append(Marker(number, match.group("code") or "", match.group("msg").strip()))
    return found


def parse_suppression(comment: str) -> set[str] | None:
    """The codes (or prefixes) one comment suppresses: `{ALL_CODES}` for a bare `ignore`, an
    empty set for a comment without a marker, None for a malformed marker (it suppresses
    nothing: `ignore[sqa201]`, `ignore[SQA201;SQA003]`, `ignore SQA201` must not silence
    every rule)."""
    start = _SUPPRESSION_START.search(comment)
    if start is None:
        return set()
    if not _SUPPRESSION_EXACT.fullmatch(start.group(0)):
        return None  # `IGNORE`, `SQLA-ASYNCIFY:`: the marker is spelled in lower case
    tail = _SUPPRESSION_TAIL.match(comment, start.end())
    if tail is None:
        return None
    listed = tail.group("codes")
    if listed is None:
        return {ALL_CODES}
    codes = [code.strip() for code in listed.split(",")]
    if not all(_CODE.fullmatch(code) for code in codes):
        return None
    return set(codes)


def suppressed_codes(comments: Iterable[str]) -> set[str]:
    """The rule codes or prefixes these comments suppress (`ALL_CODES` for a bare
    `ignore`); a malformed marker suppresses nothing (`suppression_warnings` reports it)."""
    codes: set[str] = set()
    for comment in comments:
        codes |= parse_suppression(comment) or set()
    return codes


def suppression_warnings(text: str) -> list[tuple[int, str]]:
    """`(line, message)` for each malformed suppression marker in a file's text."""
    if "sqla-asyncify" not in text.lower():
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        hash_at = line.find("#")
        if hash_at >= 0 and parse_suppression(line[hash_at:]) is None:
            found.append((number, MALFORMED))
    return found


def is_suppressed(code: str, codes: set[str]) -> bool:
    """Whether `code` is among the suppressed `codes` (which may be prefixes: `SQA2`)."""
    return ALL_CODES in codes or any(code.startswith(prefix) for prefix in codes)
