"""The fast traversals do what libcst's `node.visit` does, and the module text is libcst's."""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from codemods.rewrite import imports
from codemods.rewrite.lines import statement_texts
from codemods.rewrite.traversal import Transformer, Visitor

SOURCE = '''\
"""Doc."""
# header comment
from __future__ import annotations

import os, sys  # two
from a import (b as c,
               d)


@decorator(x=1)
async def f(a, /, b: int = 2, *args, c, **kw) -> list[int]:
    """Doc."""
    global g
    x = [i async for i in y if i] + {k: v for k, v in z.items()}
    async with open(a) as h, b:
        await h.read()
    try:
        pass
    except* (ValueError, TypeError) as e:
        raise
    finally:
        del x[1:2, ::3]
    match a:
        case [1, *rest] | {"k": _} if rest:
            return f"{a!r:>{b}} {c=}"
    return lambda q=1, *, r: (yield) if q else not r; y = 1


class C(B, metaclass=M):
    x: int = 1
    def g(self): return self.x ** -2 @ 3 if self.x else ...
# footer
'''


class _Order(cst.CSTVisitor):
    # the nodes themselves, not their ids: an id can be reused once a node libcst built on
    # the way is collected, which made the comparison flaky
    def __init__(self) -> None:
        self.events: list[tuple[str, cst.CSTNode]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", node))
        return not isinstance(node, cst.Lambda)  # a pruned subtree, too

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", original_node))


class _FastOrder(Visitor, _Order):
    pass


def test_walk_visits_what_libcst_visits_in_its_order() -> None:
    # an f-string expression without a format spec first: its visited fields differ from one
    # with a spec, and must not be taken for every f-string expression's
    Visitor().walk(cst.parse_module('f"{plain}"'))
    module = cst.parse_module(SOURCE)
    slow, fast = _Order(), _FastOrder()
    module.visit(slow)
    fast.walk(module)
    assert len(fast.events) == len(slow.events)
    assert all(a == b and m is n for (a, m), (b, n) in zip(fast.events, slow.events, strict=True))


class _Names(cst.CSTVisitor):
    """Hooks for names and calls only: whitespace and punctuation need not be entered."""

    def __init__(self) -> None:
        self.seen: list[cst.CSTNode] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append(node)

    def leave_Call(self, original_node: cst.Call) -> None:
        self.seen.append(original_node)


class _FastNames(Visitor, _Names):
    pass


class _Comments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.seen.append(node.value)


class _FastComments(Visitor, _Comments):
    pass


def test_walk_skips_whitespace_and_punctuation_only_where_no_hook_looks_at_them() -> None:
    assert _FastNames.skipped and not _FastComments.skipped and not _FastOrder.skipped
    module = cst.parse_module(SOURCE)
    for slow, fast in ((_Names(), _FastNames()), (_Comments(), _FastComments())):
        module.visit(slow)
        fast.walk(module)
        assert slow.seen and len(fast.seen) == len(slow.seen)
        assert all(a is b or a == b for a, b in zip(fast.seen, slow.seen, strict=True))


class _Rewrite(cst.CSTTransformer):
    """Renames, flattens a statement into two, empties a statement line, adds a comma."""

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value="renamed") if updated_node.value == "x" else (
            updated_node)

    def leave_Global(self, original_node: cst.Global, updated_node: cst.Global
                     ) -> cst.RemovalSentinel:
        return cst.RemovalSentinel.REMOVE

    def leave_Raise(self, original_node: cst.Raise, updated_node: cst.Raise
                    ) -> cst.FlattenSentinel:
        return cst.FlattenSentinel([cst.Pass(), updated_node])

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef
                       ) -> cst.FlattenSentinel:
        return cst.FlattenSentinel([updated_node, cst.SimpleStatementLine([cst.Pass()])])


class _FastRewrite(Transformer, _Rewrite):
    pass


def test_transform_gives_what_libcst_gives_and_keeps_unchanged_subtrees() -> None:
    module = cst.parse_module(SOURCE)
    slow = module.visit(_Rewrite())
    fast = _FastRewrite().transform(module)
    assert isinstance(fast, cst.Module)
    assert fast.code == slow.code != module.code
    assert "global" not in fast.code
    untouched = module.body[3]  # `from a import (...)`
    assert fast.body[3] is untouched


@pytest.mark.parametrize("source", [
    "", "\n", "\n\n\n", "# only a comment", "# only a comment\n", "x = 1", "x = 1\n",
    "x = 1\r\ny = 2\r\n", "x = 1\r\ny = 2", "x = 1\ny = 2\r\n", "def f():\n    pass",
    "# head\n\nimport a\n\nx = 1\n# foot", "class A:\n  x = 1\n  # trailing\n\n", SOURCE,
])
def test_module_text_is_libcsts(source: str) -> None:
    module = cst.parse_module(source)
    assert imports.apply(module, imports.ImportChanges()) == module.code


@pytest.mark.parametrize("source", [
    SOURCE, SOURCE.replace("\n", "\r\n"), "x = 1\r\ny = 2\rz = 3\n",
    "# head\n\n# more\nimport a; import b\n\n\n@d\n# between\n@e(\n  1)\n\ndef f():\n"
    "    pass\n    # in the block\n# after the block\nclass C: pass\n# foot\n",
    '"""Doc."""\nx = """a\nb\\\nc"""\ny = (1,\n     2)  # two\nif x:\n    pass\nelse:\n'
    '    y = 3\n\x0c\nz = 4',
])
def test_statement_texts_are_what_libcst_renders(source: str) -> None:
    module = cst.parse_module(source)
    texts = statement_texts(module, source, ast.parse(source))
    assert len(texts) == len(module.body) - 1
    assert all(texts[id(s)] == module.code_for_node(s) for s in module.body[:-1])
    changes = imports.ImportChanges()
    assert imports.apply(module, changes, texts) == imports.apply(module, changes) == source
