"""Every rule's executable cases (they live beside the rule, in `Rule.cases`) and the texts
generated from them: `sqla-asyncify rules CODE` and the README's rule table."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from codemods import RULES, Config, FileResult, migrate_sources
from codemods.rules import Case, Rule, rules_table
from codemods.sources import SourceFile

README = Path(__file__).resolve().parents[1] / "README.md"
CASES = [pytest.param(rule, case, id=f"{rule.code}-{i}")
         for rule in RULES for i, case in enumerate(rule.cases)]


def _migrate(text: str, case: Case, config: Config) -> FileResult:
    """The case's module migrated, with its `models.py` (which must become what the case
    says)."""
    sources = [SourceFile.from_text("case.py", text)]
    if case.models is not None:
        sources.append(SourceFile.from_text("models.py", textwrap.dedent(case.models).lstrip()))
    result, *models = migrate_sources(sources, config)
    assert all(m.error is None and m.new_source == case.models_expected for m in models)
    return result


@pytest.mark.parametrize(("rule", "case"), CASES)
def test_rule_case(rule: type[Rule], case: Case) -> None:
    config = Config(target=case.target, strict_loading=case.strict_loading)
    result = _migrate(case.source, case, config)
    assert result.error is None, result.error
    assert result.new_source == case.expected
    compile(result.new_source, "case.py", "exec", dont_inherit=True)
    assert _migrate(result.new_source, case, config).new_source == result.new_source
    if case.after is not None:
        assert any(f.code == rule.code for f in result.findings), "the rule itself must act"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_every_rule_has_a_changing_case(rule: type[Rule]) -> None:
    assert any(case.after is not None for case in rule.cases)
    assert "Before" in rule.example() and "After" in rule.example()


def test_readme_rule_table_is_generated() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- rules-table:start -->\n", "<!-- rules-table:end -->"
    assert start in text and end in text
    assert text.split(start, 1)[1].split(end, 1)[0] == rules_table(), (
        "README's rule table is out of date: paste codemods.rules.rules_table() between "
        "its markers")
