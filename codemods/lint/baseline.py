"""Baselines for gradual adoption: today's findings, recorded by fingerprints that survive
edits elsewhere in a file (path, code, message, the enclosing function and the normalized
source line, never the line number), so CI fails only on findings that are new."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .base import LintFinding

BASELINE_VERSION = 1


class BaselineError(ValueError):
    """The baseline file cannot be read or is not one this tool wrote."""


def fingerprint(finding: LintFinding, root: Path | None = None) -> str:
    """Stable across line moves; the path is relative to `root` (the project) when given."""
    path = finding.path
    if root is not None:
        try:
            path = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
        except ValueError:  # another drive (Windows)
            pass
    key = "\0".join([path.replace(os.sep, "/"), finding.code, finding.message,
                     finding.context])
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def write_baseline(file: Path, findings: Iterable[LintFinding], root: Path | None) -> int:
    """Record `findings` in `file` (sorted, one entry a fingerprint with its count); returns
    how many were recorded."""
    counts = Counter(fingerprint(f, root) for f in findings)
    entries = [{"fingerprint": key, "count": n} for key, n in sorted(counts.items())]
    file.write_text(json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2)
                    + "\n", encoding="utf-8")
    return sum(counts.values())


def read_baseline(file: Path) -> Counter[str]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{file}: no such baseline (create it with --update-baseline)"
                            ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{file}: cannot read the baseline: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not (
            isinstance(data.get("findings"), list)):
        raise BaselineError(f"{file}: not a sqla-asyncify lint baseline (version "
                            f"{BASELINE_VERSION})")
    try:
        return Counter({str(e["fingerprint"]): int(e["count"]) for e in data["findings"]})
    except (KeyError, TypeError, ValueError):
        raise BaselineError(f"{file}: malformed baseline entry") from None


def new_findings(findings: Iterable[LintFinding], baseline: Counter[str],
                 root: Path | None) -> tuple[list[LintFinding], int]:
    """The findings the baseline does not cover (each entry covers as many findings as it
    counted), and how many it covered."""
    left = Counter(baseline)
    fresh, covered = [], 0
    for finding in findings:
        key = fingerprint(finding, root)
        if left[key] > 0:
            left[key] -= 1
            covered += 1
        else:
            fresh.append(finding)
    return fresh, covered
