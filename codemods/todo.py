"""The text formats users see in their files: the TODO marker and the suppression comment.

A marker is `# TODO(sqla-asyncify CODE): message`; `--check`, `status` and the report count
them. `# sqla-asyncify: ignore` (every rule) or `# sqla-asyncify: ignore[SQA401, SQA405]` on a
statement keeps those rules away from it, like `noqa`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TODO_PREFIX = "# TODO(sqla-asyncify"
ALL_CODES = "*"  # a bare `ignore`: every rule
_SUPPRESSION = re.compile(r"#\s*sqla-asyncify:\s*ignore(?:\[(?P<codes>[A-Z0-9, ]+)\])?")
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


def suppressed_codes(comments: Iterable[str]) -> set[str]:
    """The rule codes these comments suppress (`ALL_CODES` for a bare `ignore`)."""
    codes: set[str] = set()
    for comment in comments:
        match = _SUPPRESSION.search(comment)
        if match:
            listed = match.group("codes")
            codes |= {c.strip() for c in listed.split(",")} if listed else {ALL_CODES}
    return codes


def is_suppressed(code: str, codes: set[str]) -> bool:
    """Whether `code` is among the suppressed `codes`."""
    return ALL_CODES in codes or code in codes
