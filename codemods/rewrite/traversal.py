"""Traversal base classes without libcst's per-field hooks.

libcst calls `on_visit_attribute`/`on_leave_attribute` for every field of every node it
visits, looking up `visit_<Node>_<field>` methods by name; no visitor here defines one, and
the lookups cost about a tenth of a large file's run time.
"""

from __future__ import annotations

import libcst as cst


class _NoFieldHooks:
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


class Visitor(_NoFieldHooks, cst.CSTVisitor):
    """A read-only visitor dispatching `visit_<Node>` / `leave_<Node>` only."""


class Transformer(_NoFieldHooks, cst.CSTTransformer):
    """A transformer dispatching `visit_<Node>` / `leave_<Node>` only."""
