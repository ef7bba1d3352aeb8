"""What a file's passes ask the plan, and whether a new plan answers it alike: a question
about one member of a project-wide set depends on that member only, the whole set on all
of it; the passes get the same answers through the recording as without it."""

from __future__ import annotations

import pickle
from dataclasses import replace
from functools import partial

import libcst as cst

from codemods.analysis import Plan, RunState
from codemods.index import index_source
from codemods.plan_questions import STAGE_COLOUR, STAGE_LOCAL, Asking, Recorder, answered_alike

HELPERS = '''
def label(session):
    return session.query(Customer).count()

def title(session):
    return "shop"
'''

VIEWS = '''
from shop.helpers import label, title

def page(session):
    return label(session) + title(session)
'''


def _plan(helpers: str = HELPERS, async_functions: frozenset = frozenset()) -> Plan:
    indexes = [index_source(HELPERS if helpers is None else helpers, "helpers.py",
                            module="shop.helpers"),
               index_source(VIEWS, "views.py", module="shop.views")]
    return Plan.build(indexes, RunState(async_functions=async_functions))


CONTENTS = {"helpers.py": "h1", "views.py": "v1"}


def _asked(plan: Plan, ask, root: str = STAGE_COLOUR):
    recorder = Recorder(CONTENTS)
    questions = recorder.begin()
    answer = ask(Asking(plan, recorder, root))
    return questions, answer


def _plans(plan: Plan) -> dict[str, Plan]:
    return {STAGE_LOCAL: plan, STAGE_COLOUR: plan}


def test_one_member_asked_depends_on_that_member_only() -> None:
    label, title = ("shop.helpers", "label"), ("shop.helpers", "title")
    before = _plan(async_functions=frozenset({label}))
    questions, answer = _asked(before, lambda plan: label in plan.async_functions)
    assert answer is True
    # another function becoming async does not change this question's answer
    assert answered_alike(questions, _plans(_plan(async_functions=frozenset({label, title}))),
                          CONTENTS)
    assert not answered_alike(questions, _plans(_plan()), CONTENTS)


def test_the_whole_set_asked_depends_on_all_of_it() -> None:
    label, title = ("shop.helpers", "label"), ("shop.helpers", "title")
    before = _plan(async_functions=frozenset({label}))
    questions, answer = _asked(before, lambda plan: sorted(plan.async_functions))
    assert answer == [label]
    assert answered_alike(questions, _plans(_plan(async_functions=frozenset({label}))),
                          CONTENTS)
    assert not answered_alike(
        questions, _plans(_plan(async_functions=frozenset({label, title}))), CONTENTS)


def test_answers_through_the_recording_are_the_plans_own() -> None:
    label = ("shop.helpers", "label")
    plan = _plan(async_functions=frozenset({label}))
    recorder = Recorder(CONTENTS)
    recorder.begin()
    asking = Asking(plan, recorder, STAGE_COLOUR)
    assert asking.async_functions == plan.async_functions
    assert asking.async_functions | {("x", "y")} == plan.async_functions | {("x", "y")}
    assert set(asking.async_functions) == set(plan.async_functions)
    assert len(asking.async_functions) == 1 and bool(asking.async_functions)
    assert asking.async_functions.union({("x", "y")}) == plan.async_functions | {("x", "y")}
    views = plan.modules["shop.views"]
    assert asking.modules["shop.views"] is views
    assert asking.modules.get("shop.nothing") is None and "shop.views" in asking.modules
    assert asking.qualify(views, "label") == plan.qualify(views, "label")
    # a plan derived through the recording answers as the plan derived without it
    state = replace(plan.state, async_functions=frozenset())
    assert asking.with_state(state).async_functions == frozenset()
    # a proxy handed back to the plan is the value it stands for
    assert asking.relevant_scopes(views, asking.async_functions) == plan.relevant_scopes(
        views, plan.async_functions)


def test_a_changed_module_answers_otherwise_where_its_index_is_the_answer() -> None:
    questions, _ = _asked(_plan(), lambda plan: plan.modules["shop.helpers"].functions)
    assert answered_alike(questions, _plans(_plan()), CONTENTS)
    assert not answered_alike(questions, _plans(_plan()),
                              {**CONTENTS, "helpers.py": "h2"})  # its text changed


def test_a_call_given_a_set_the_plan_holds_is_asked_again_with_the_new_set() -> None:
    label = ("shop.helpers", "label")
    before = _plan(async_functions=frozenset({label}))

    def ask(plan):
        views = plan.modules["shop.views"]
        return plan.relevant_scopes(views, plan.async_functions)

    questions, answer = _asked(before, ask)
    assert "page" in answer
    assert answered_alike(questions, _plans(_plan(async_functions=frozenset({label}))),
                          CONTENTS)
    assert not answered_alike(questions, _plans(_plan()), CONTENTS)


def test_what_cannot_be_asked_again_makes_the_questions_unusable() -> None:
    plan = _plan()
    for ask in (lambda plan: plan.once("a lambda's answer", lambda plan: 1),  # no name
                lambda plan: plan.modules.get(cst.Name("views"))):  # a libcst node
        questions, _ = _asked(plan, ask)
        assert questions.unusable is not None
        assert not answered_alike(questions, _plans(plan), CONTENTS)


def _count_functions(plan: Plan, module: str) -> int:
    return len(plan.modules[module].functions)


def test_once_with_a_module_level_function_and_a_partial_is_asked_again() -> None:
    questions, answer = _asked(_plan(), lambda plan: plan.once(
        "functions in shop.helpers", partial(_count_functions, module="shop.helpers")))
    assert answer == 2
    assert answered_alike(questions, _plans(_plan()), CONTENTS)
    assert not answered_alike(
        questions, _plans(_plan(HELPERS + "\ndef more():\n    pass\n")), CONTENTS)


def test_a_generator_answer_is_given_once_and_noted() -> None:
    plan = _plan()
    views = plan.modules["shop.views"]
    questions, answer = _asked(plan, lambda asking: list(asking.lineage((views, "page"))))
    assert answer == list(plan.lineage((views, "page")))
    assert answered_alike(questions, _plans(_plan()), CONTENTS)


def test_questions_survive_pickling_and_a_stage_they_were_not_asked_in_fails() -> None:
    questions, _ = _asked(_plan(), lambda plan: plan.qualify(plan.modules["shop.views"],
                                                             "label"), root=STAGE_LOCAL)
    again = pickle.loads(pickle.dumps(questions))
    assert again.asked == questions.asked
    assert answered_alike(again, {STAGE_LOCAL: _plan()}, CONTENTS)
    colour_only, _ = _asked(_plan(), lambda plan: bool(plan.async_functions))
    assert not answered_alike(colour_only, {STAGE_LOCAL: _plan()}, CONTENTS)
