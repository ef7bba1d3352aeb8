"""A function name defined again in one statement list: one index scope per definition."""

from __future__ import annotations

import textwrap

from codemods.index.indexer import index_source
from codemods.index.redefinitions import DefinitionKeys, split_keys


def _index(source: str):
    return index_source(textwrap.dedent(source), "views.py", "views")


def test_each_earlier_definition_gets_its_own_key() -> None:
    assert split_keys([("a", ()), ("b", ()), ("a", ("r.get",)), ("a", ("r.post",))]) == {
        0: "a@1", 2: "a@2"}


def test_overloads_and_extending_definitions_stay_one_scope() -> None:
    assert split_keys([("f", ("typing.overload",)), ("f", ("overload",)), ("f", ())]) == {}
    assert split_keys([("x", ("property",)), ("x", ("x.setter",))]) == {}


def test_the_index_keeps_both_bodies_apart() -> None:
    ix = _index("""
        @route("GET")
        def login():
            return form()

        @route("POST")
        def login(name):
            return check(name)

        class View:
            def save(self):
                return first()

            def save(self):
                return second()
    """)
    assert ix.redefined == {"login": ("login@1", "login"), "View.save": ("View.save@1",
                                                                         "View.save")}
    assert {c.scope: c.callee for c in ix.calls if c.callee in ("form", "check")} == {
        "login@1": "form", "login": "check"}
    assert ix.functions["login@1"].decorators == ("route",)
    assert ix.functions["login"].params == ("name",)


def test_alternatives_in_different_blocks_stay_one_scope() -> None:
    ix = _index("""
        try:
            def load():
                return fast()
        except ImportError:
            def load():
                return slow()
    """)
    assert ix.redefined == {}
    assert {c.scope for c in ix.calls} == {"load"}


def test_a_traversal_numbers_the_definitions_as_the_index_did() -> None:
    keys = DefinitionKeys({"login": ("login@1", "login"), "V.save": ("V.save@1", "V.save")})
    assert [keys.key("", "login"), keys.key("", "login"), keys.key("", "other")] == [
        "login@1", "login", "other"]
    assert [keys.key("V", "save"), keys.key("V", "save"), keys.key("V", "save")] == [
        "save@1", "save", "save"]
