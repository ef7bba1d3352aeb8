"""Where in a test module the mocks of its patches may reach, from the index (for SQA308).

`form` says which callees patch; `handed_to` lists the functions of a module that the mocks
of some scopes may reach (helpers they are handed to, the tests taking a fixture, the
methods of a class whose setUp keeps them on `self`); `conftest_patches` the patches whose
mocks the fixtures of the conftest.py files above a module hand out. The audit traverses
only those scopes (see `AuditRule.scopes`).
"""

from __future__ import annotations

from pathlib import PurePath

from ..index import ModuleIndex
from .startup import is_pytest_module

_PATCH = frozenset({"unittest.mock.patch", "mock.patch"})
_PATCH_OBJECT = frozenset({"unittest.mock.patch.object", "mock.patch.object"})
_PATCH_MULTIPLE = frozenset({"unittest.mock.patch.multiple", "mock.patch.multiple"})
_DEFAULT = frozenset({"unittest.mock.DEFAULT", "mock.DEFAULT"})
# pytest-mock's fixtures: `mocker.patch(...)` returns the mock itself
MOCKERS = frozenset({"mocker", "class_mocker", "module_mocker", "package_mocker",
                     "session_mocker"})
PATCH_NAMES = ("patch", "patch.object", "patch.multiple", "setattr")  # how `form`'s calls end
MOCK_MODULES = frozenset({"unittest.mock", "mock", *MOCKERS})
TEST_PREFIX = "test"  # unittest.mock.patch.TEST_PREFIX: the methods a class decorator patches


def form(qualified: str) -> str | None:
    """What kind of patching call a callee (qualified) is: "patch", "object", "multiple",
    "setattr"."""
    head, _, rest = qualified.partition(".")
    if qualified in _PATCH or (head in MOCKERS and rest == "patch"):
        return "patch"
    if qualified in _PATCH_OBJECT or (head in MOCKERS and rest == "patch.object"):
        return "object"
    if qualified in _PATCH_MULTIPLE or (head in MOCKERS and rest == "patch.multiple"):
        return "multiple"
    if head == "monkeypatch" and rest == "setattr":
        return "setattr"
    return None


def is_default(qualified: str | None) -> bool:
    """`DEFAULT` of unittest.mock, or pytest-mock's `mocker.DEFAULT`."""
    head, _, rest = (qualified or "").partition(".")
    return qualified in _DEFAULT or (head in MOCKERS and rest == "DEFAULT")


SET_UPS = frozenset({"setUp", "asyncSetUp", "setup_method"})  # they keep mocks on `self`


def handed_to(ix: ModuleIndex, scopes: set[str]) -> set[str]:
    """The functions of the module that mocks of `scopes` may reach, from the index: the
    module's functions (and the class's methods, through `self.`) they call, and the
    functions taking a fixture of theirs as a parameter — and so on from those."""
    fixtures = {q for q, f in ix.functions.items() if "." not in q and any(
        d.rpartition(".")[2] == "fixture" for d in f.decorators)}
    found, todo = set(scopes), list(scopes)
    while todo:
        scope = todo.pop()
        owner = ix.functions[scope].owner_class if scope in ix.functions else None
        reached = {site.callee for site in ix.calls_in(scope)}
        reached = {name for name in reached if "." not in name} | {
            f"{owner}.{name[5:]}" for name in reached if owner and name.startswith("self.")}
        if scope in fixtures:
            reached |= {q for q, f in ix.functions.items() if scope in f.params}
        if owner and scope.rpartition(".")[2] in SET_UPS:  # the tests using `self.m`
            reached |= {q for q, f in ix.functions.items() if f.owner_class == owner}
        for function in reached & ix.functions.keys() - found:
            found.add(function)
            todo.append(function)
    return found


def conftest_patches(ix: ModuleIndex, plan) -> dict[str, tuple[str, str]]:
    """Fixture name -> (owner, attribute) of the `patch("owner.attribute")` whose mock it
    hands out, for the fixtures of the conftest.py files above the module (the nearest one
    first, as pytest finds them)."""
    if not is_pytest_module(ix.module):
        return {}
    folder = PurePath(ix.path).parent
    conftests = sorted((m for m in plan.modules.values() if m.path.endswith("conftest.py")
                        and m is not ix and PurePath(m.path).name == "conftest.py"
                        and folder.is_relative_to(PurePath(m.path).parent)),
                       key=lambda m: len(PurePath(m.path).parts))
    found: dict[str, tuple[str, str]] = {}
    for conftest in conftests:  # nearer ones later: they win
        for qualname, info in conftest.functions.items():
            if "." in qualname or not any(d.rpartition(".")[2] == "fixture"
                                          for d in info.decorators):
                continue
            for callee, target in info.hands_out_patches:
                if form(plan.qualify(conftest, callee)) == "patch" and "." in target:
                    owner, _, attr = target.rpartition(".")
                    found[qualname] = (owner, attr)
    return found
