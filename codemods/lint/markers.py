"""The migration's TODO markers still in a linted file: each names a risk the migration
could not rule out (a read it could not prove loaded, a call that may return a coroutine),
so lint keeps reporting it until the code is fixed and the marker removed."""

from __future__ import annotations

from collections.abc import Iterator

from ..todo import Marker, find_markers


def marked_statements(text: str, codes: frozenset[str]) -> Iterator[tuple[int, int, Marker]]:
    """(line, column, marker) of the statement or `def` under each marker of `codes` (past
    further comment lines, blank lines and decorators), or of the code line a marker ends."""
    lines = text.splitlines()
    for marker in find_markers(text):
        if marker.code not in codes:
            continue
        number = marker.line
        if lines[number - 1].lstrip().startswith("#"):
            while number < len(lines) and (not lines[number].strip()
                                           or lines[number].lstrip().startswith(("#", "@"))):
                number += 1
            number = min(number + 1, len(lines))
        line = lines[number - 1]
        yield number, len(line) - len(line.lstrip()) + 1, marker
