"""The project's recursive questions (what a name holds, which function a call runs, what a
function returns) are each worked out once, and their answers do not depend on the order
they are asked in."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from codemods.analysis.project import Project
from codemods.index import index_source
from codemods.sources import SourceFile, discover

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _project(**modules: str) -> Project:
    return Project({name: index_source(text, f"{name}.py", module=name)
                    for name, text in modules.items()})


def _steps(count: int) -> str:
    """Builders each reaching the one before through two locals and a holder's attribute,
    as layered helpers do: without remembering, the paths to `Step0` double per layer."""
    lines = ["class Step0:", "    pass", ""]
    for i in range(1, count):
        lines += [f"class Holder{i}:", "    def __init__(self):",
                  f"        self.inner = build{i - 1}()", "",
                  f"def build{i}(flag):", f"    holder = Holder{i}()",
                  "    if flag:", "        first = holder.inner", "        return first",
                  f"    second = build{i - 1}(flag)", "    return second", ""]
    lines += ["def build0(flag):", "    made = Step0()", "    return made", ""]
    return "\n".join(lines)


def _questions(project: Project) -> list[tuple[object, str, str]]:
    """Every name each scope binds, and every call it makes, across the project."""
    asked = []
    for ix in project.modules.values():
        for scope, bindings in ix.bindings.items():
            asked += [(ix, scope, b.name) for b in bindings]
        asked += [(ix, site.scope, site.callee) for site in ix.calls]
    return asked


def _answers(project: Project, questions: list[tuple[object, str, str]]) -> dict:
    def named(found):
        return None if found is None else (found[0].module, found[1]) if isinstance(
            found[0], type(next(iter(project.modules.values())))) else found

    return {(ix.module, scope, name): (named(project.instance_class(ix, scope, name)),
                                       project.resolve_function(ix, scope, name))
            for ix, scope, name in questions}


def test_each_question_is_worked_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    worked: Counter = Counter()
    for method in ("_instance_class", "_resolve_function"):
        real = getattr(Project, method)

        def counted(self, ix, scope, name, real=real, method=method):
            worked[method, ix.module, scope, name] += 1
            return real(self, ix, scope, name)

        monkeypatch.setattr(Project, method, counted)
    project = _project(steps=_steps(12))
    ix = project.modules["steps"]
    assert project.instance_class(ix, "build11", "second") == (ix, "Step0")
    assert project.instance_class(ix, "build11", "first") == (ix, "Step0")
    assert max(worked.values()) == 1
    assert len(worked) < 200  # a few questions per layer, not one per path (2 ** 11)


def test_a_cycle_answers_none_and_ends() -> None:
    project = _project(chain='''
class Node:
    def next(self):
        node = self.next()
        return node

def walk(start: Node):
    node = start.next()
    return node
''')
    ix = project.modules["chain"]
    assert project.instance_class(ix, "walk", "node") is None
    assert project.instance_class(ix, "walk", "start") == (ix, "Node")


def test_a_long_alias_chain_stops_within_the_recursion_limit() -> None:
    lines = ["class Start:", "    pass", "", "x0 = Start()",
             *(f"x{i} = x{i - 1}" for i in range(1, 1500))]
    project = _project(deep="\n".join(lines))
    ix = project.modules["deep"]
    assert project.instance_class(ix, "", "x1499") is None  # deeper than the tool follows
    assert project.instance_class(ix, "", "x20") == (ix, "Start")


def _fixture_projects() -> list[pytest.param]:
    found = []
    for folder in sorted(FIXTURES.rglob("input")):
        if folder.is_dir():
            found.append(pytest.param(folder, id=folder.parent.relative_to(FIXTURES).as_posix()))
    return found


@pytest.mark.parametrize("folder", _fixture_projects())
def test_answers_do_not_depend_on_the_order_asked(folder: Path) -> None:
    def project() -> Project:
        sources = [SourceFile.read(p) for p in discover([folder]) if isinstance(p, Path)]
        indexes = [index_source(s.text, s.path, module=Path(s.path).relative_to(folder)
                                .with_suffix("").as_posix().replace("/", ".")) for s in sources]
        return Project({ix.module: ix for ix in indexes})

    forward, backward = project(), project()
    questions = _questions(forward)
    asked_back = [(backward.modules[ix.module], scope, name)
                  for ix, scope, name in reversed(_questions(forward))]
    assert _answers(forward, questions) == _answers(backward, asked_back)
