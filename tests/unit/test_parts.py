"""A big module is parsed in parts and joined: the tree, the statements' lines and texts, and
the migration are those of the whole-module parse."""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from codemods import migrate_source
from codemods.rewrite import parts
from codemods.rewrite.lines import statement_lines, statement_texts


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of 40 characters: nearly every top-level statement begins a part."""
    monkeypatch.setattr(parts, "PART_CHARS", 40)


def _numbered(module: cst.Module, lines: dict[int, int]) -> list[tuple[str, int]]:
    """(node type, line) of every numbered statement, in tree order."""
    found: list[tuple[str, int]] = []

    class Numbered(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if id(node) in lines:
                found.append((type(node).__name__, lines[id(node)]))
            return True

    module.visit(Numbered())
    return found


def assert_read_like_whole(text: str) -> parts.ReadModule:
    """The parts' module equals libcst's whole-module parse, and so do its lines and texts."""
    read = parts.read_module(text)
    whole = cst.parse_module(text)
    assert read.module.deep_equals(whole)  # (header and footer too)
    for attribute in ("default_indent", "default_newline", "encoding", "has_trailing_newline"):
        assert getattr(read.module, attribute) == getattr(whole, attribute), attribute
    assert read.module.code == text
    tree = ast.parse(text)
    assert _numbered(read.module, read.lines()) == _numbered(
        whole, statement_lines(whole, text, tree))
    whole_texts = statement_texts(whole, text, tree)
    assert [read.texts().get(id(s)) for s in read.module.body] == [
        whole_texts.get(id(s)) for s in whole.body]
    return read


MODULE = '''\
#!/usr/bin/env python
"""The module's docstring."""
from __future__ import annotations

import functools  # the first import


# a comment between two statements
    # an indented one, belonging to the statement after
X = 1; Y = 2


@functools.cache
# a comment between decorators
@functools.wraps(print)
def f(a,
      b):
    if a: return b
    # the block's last comment
        # deeper still

  # less indented: the next statement's
class C:
  """Two-space indent, though the module's first block uses four."""

  def m(self):
      return [
  1]


if X:
    pass
elif Y:
    pass
else:
    try:
        pass
    except ValueError:
        pass
    finally:
        pass

match X:
    case 1:
        pass
# the module's footer

'''


def test_parts_join_to_the_whole_modules_tree(small_parts: None) -> None:
    read = assert_read_like_whole(MODULE)
    assert len(read.module.body) == 8
    assert read._lines is not None  # numbered while parsing, not by a second `ast.parse`


@pytest.mark.parametrize("text", [
    MODULE.replace("\n", "\r\n"),  # Windows line ends
    "x = 1\r\n" + MODULE,  # a first line ending unlike the rest
    "X = 1\n\n\ndef g():\n\tif X:\n\t\tpass\n\t# tab\n\n\nclass C:\n    y = 2\n" * 3,  # tabs
    "X = 1\nY = 2\n\n\ndef g():\n\tpass\n\n\ndef h():\n    pass\n" + "Z = 3\n" * 5,
    MODULE.rstrip("\n"),  # no newline at the end
    MODULE + "def last():\n    pass\n    # inside, at the end\n",
    "\n\n# only comments before\n\n" + MODULE,
])
def test_parts_join_like_the_whole_module_also(small_parts: None, text: str) -> None:
    assert_read_like_whole(text)


@pytest.mark.parametrize("text", [
    "x = 1\n\\\ny = 2\n" + "z = 3\n" * 20,  # a line continued by a backslash on its own
    "x = 1; \\\ny = 2\n" + "z = 3\n" * 20,  # `;` then a backslash: one libcst statement
    "@\\\nfunctools.cache\ndef f():\n    pass\n" + "z = 3\n" * 20,  # `@` alone on its line
    "# only comments\n" * 20,
])
def test_the_whole_text_is_parsed_where_parts_do_not_line_up(
        small_parts: None, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    joined = []
    monkeypatch.setattr(parts, "_read_in_parts", lambda *a: joined.append(a) or None)
    assert parts.read_module(text).module.deep_equals(cst.parse_module(text))
    monkeypatch.undo()
    monkeypatch.setattr(parts, "PART_CHARS", 40)
    assert parts._read_in_parts(text, ast.parse(text)) is None  # the parts did not line up


def test_a_small_module_is_parsed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts, "_read_in_parts", lambda *a: pytest.fail("parsed in parts"))
    assert parts.read_module(MODULE).module.code == MODULE


def test_a_syntax_error_is_libcsts(small_parts: None) -> None:
    text = MODULE + "def broken(:\n    pass\n"
    with pytest.raises(cst.ParserSyntaxError) as error:
        parts.read_module(text)
    with pytest.raises(cst.ParserSyntaxError) as whole:
        cst.parse_module(text)
    assert (error.value.raw_line, error.value.message) == (whole.value.raw_line,
                                                           whole.value.message)


APP = '''\
"""Repositories."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import User

PAGE = 20  # untouched


# the one function that changes
def first_user(session: Session, name: str) -> User | None:
    return session.query(User).filter(User.name == name).first()


def untouched(a: int) -> int:
    # nothing for the tool here
    return a + PAGE


@staticmethod
def count_users(session: Session) -> int:
    return session.query(User).count()
'''


@pytest.mark.parametrize("target", ["async", "sync"])
def test_a_module_migrated_in_parts_is_migrated_as_a_whole(
        monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    from codemods import Config

    config = Config(target=target)
    whole = migrate_source(APP, "app/repo.py", config)
    monkeypatch.setattr(parts, "PART_CHARS", 40)
    in_parts = migrate_source(APP, "app/repo.py", config)
    assert in_parts.new_source == whole.new_source != APP
    assert in_parts.findings == whole.findings
    assert {f.line for f in whole.findings} >= {12, 22}  # the two queries' lines
    # an untouched statement keeps its text, comments and all
    assert "def untouched(a: int) -> int:\n    # nothing for the tool here\n" in (
        in_parts.new_source)


def test_the_names_a_module_reads_are_found_part_by_part(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from codemods.rewrite import imports

    pieces = ["# header\n", 'import os\n', 'x = os.sep  # "not a string"\n',
              'def f():\n    return "a\\nb", y\n', 'z = f"{x}!"\n']
    whole = imports._read_names(pieces)
    monkeypatch.setattr(imports, "PART_CHARS", 1)
    assert list(imports._joined_parts(pieces)) == pieces  # one part per piece
    names, strings = imports._read_names(pieces)
    assert names == whole[0] == {"os", "x", "y", "z"}
    assert sorted(strings.split("\n")) == sorted(whole[1].split("\n"))
    assert "a\nb" in strings and "!" in strings
    # a piece that parses only with the next one: the whole text is parsed
    assert imports._read_names(["x = (\n", "1)\n"])[0] == {"x"}
    with pytest.raises(SyntaxError):
        imports._read_names(["x = (\n"])


def test_each_parts_tree_is_freed_before_the_next_is_parsed(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """All parts' trees alive at once were the whole module's `ast` again (a big module's
    peak memory)."""
    import weakref

    from codemods.rewrite import imports

    parse, alive, overlapping = ast.parse, [], []

    def parse_one(text: str) -> ast.Module:
        overlapping.append(any(tree() is not None for tree in alive))
        tree = parse(text)
        alive.append(weakref.ref(tree))
        return tree

    monkeypatch.setattr(imports, "PART_CHARS", 1)
    monkeypatch.setattr(imports.ast, "parse", parse_one)
    pieces = ['import os\n', 'x = os.sep\n', 'y = "s"\n']
    read = imports._read_names(pieces)
    # a later part that parses only with the next one: the whole text, nothing counted twice
    alive.clear()
    read_again = imports._read_names(['x = "s"\n', "y = (\n", "1)\n"])
    monkeypatch.undo()
    assert read == ({"os", "x", "y"}, "s") and read_again == ({"x", "y"}, "s")
    assert overlapping == [False] * 6


def test_the_new_text_is_compiled_after_the_files_trees_are_dropped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiling a big module's new text beside its trees set the run's peak memory."""
    import gc

    from codemods import passes
    from codemods.results import FileResult

    finish, verify, kept, dropped = passes.finish, passes.verify, [], []

    def finish_keeping(pending: passes.Pending, tree: cst.Module, result: FileResult) -> None:
        kept.extend([pending.original, pending.tree, tree])
        finish(pending, tree, result)

    def verify_alone(result: FileResult) -> None:
        dropped.append(bool(kept) and all(gc.get_referrers(node) == [kept] for node in kept))
        verify(result)

    monkeypatch.setattr(passes, "finish", finish_keeping)
    monkeypatch.setattr(passes, "verify", verify_alone)
    assert migrate_source(APP, "app/repo.py").new_source != APP
    assert dropped == [True]  # (the local pass's output, the final tree and the original)


def test_the_indexs_tree_is_read_once_and_only_for_its_own_text(small_parts: None,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """The index keeps a big module's `ast` for the read of that very text: taken once,
    never for another text (even an equal one), never for a small one, dropped by the run."""
    from codemods.index.cache import index_all
    from codemods.sources import SourceFile

    parse, parsed = ast.parse, []
    monkeypatch.setattr(parts.ast, "parse", lambda text, *a, **k: parsed.append(text) or parse(
        text, *a, **k))
    text = MODULE + "\n"  # a text object of its own
    parts.keep_tree(text, parse(text))
    assert parts.read_module("".join([MODULE, "\n"])).module.deep_equals(  # equal, not it
        cst.parse_module(text)) and len(parsed) == 1
    read = parts.read_module(text)  # its own: no `ast.parse` of it
    parts.read_module(text)  # taken once (the read consumes it): parsed this time
    assert len(parsed) == 2
    assert read.module.deep_equals(cst.parse_module(text))
    assert read.lines() == statement_lines(read.module, text)
    parts.keep_tree("x = 1\n", parse("x = 1\n"))  # small: read whole, nothing kept
    assert parts._kept == []

    source = SourceFile.from_text("big.py", text)
    index_all([source], jobs=1, keep_tree=True)
    assert parts._kept and parts._kept[0][0] is text
    parts.drop_kept_tree()
    assert parts._kept == []
    index_all([source], jobs=1)  # (the caller does not read the modules next)
    assert parts._kept == []
    migrate_source(text, "big.py")  # a run drops what no read took
    assert parts._kept == []


@pytest.mark.parametrize("text", [
    MODULE,
    APP,
    'global g\nd = {**a, "k": b}\nmatch p:\n    case Point(x=0, y=yy) | [1, *rest]:\n'
    '        f"{v!r:>{w}}"\nlambda q=1, *, r: (yield)\nimport os.path as op\n'
    'from m import (n as nn)\n"""doc"""\nb"bytes"\n',
])
def test_the_names_and_strings_read_are_those_ast_walk_finds(text: str) -> None:
    from codemods.rewrite import imports

    tree = ast.parse(text)
    names: set[str] = set()
    strings: list[str] = []
    imports._add_read_names(tree, names, strings)
    assert names == {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert sorted(strings) == sorted(n.value for n in ast.walk(tree) if isinstance(
        n, ast.Constant) and isinstance(n.value, str))
    assert names and strings
