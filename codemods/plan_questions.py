"""What one file's passes asked the plan, so that a later run can tell whether the file's
stored result still holds: the file is unchanged, the options and the tool are the same, and
the new plan gives every one of its questions the same answer. A file's decisions come from
its own text, the options and those answers only, so a change elsewhere in the project
re-runs just the files whose questions it answers differently.

The passes see the plan through `Asking`, which forwards every question and notes it with a
digest of the answer. A question is the path from a stage's plan to the answer: attributes,
calls with their arguments, and, on the project-wide sets and mappings a plan holds
(`modules`, `async_functions`, `mapped_classes`, ...), one member or key at a time — a file
that asks whether one function became async depends on that function only, one that goes
through the whole set depends on all of it. A module's index as an answer stands for the
text it was read from. Whatever cannot be noted as a value a later run can ask again (a
libcst node handed to the plan, an answer of a type not known here) makes the file's
questions unusable (`Questions.unusable`): the file is redone.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass
from functools import partial
from pathlib import PurePath
from types import GeneratorType
from typing import Any, NamedTuple

from .index import ModuleIndex

# The plans a file's questions start from, by the stage of the run that handed it over.
STAGE_LOCAL, STAGE_REDO, STAGE_COLOUR = "local", "redo", "colour"


class _Unusable(Exception):
    """A value that cannot be noted so that a later run can ask or compare it again."""


class _IndexOf(NamedTuple):
    """An argument that was a module's index: the new plan's index of that module (a tuple:
    made and hashed for every question that names a module)."""

    module: str
    path: str


@dataclass(frozen=True)
class _AnswerAt:
    """An argument that was itself an answer (a set the plan holds): the new plan's answer at
    the same place."""

    root: str
    steps: tuple


@dataclass(frozen=True)
class _ListOf:
    """An argument that was a list (kept hashable, as a question's key)."""

    items: tuple


@dataclass(frozen=True)
class _DictOf:
    """An argument that was a dict."""

    items: tuple


@dataclass(frozen=True)
class _FunctionOf:
    """An argument that was a module-level function (`Plan.once`'s computation)."""

    module: str
    name: str


@dataclass(frozen=True)
class _PartialOf:
    """An argument that was such a function with some arguments given (`functools.partial`)."""

    function: _FunctionOf
    args: tuple
    keywords: tuple


_PLAIN = (bool, int, float, str, bytes, type(None))


def _encode(value: Any, out: list[str], digests: Mapping[str, str]) -> None:
    kind = type(value)
    if kind in _PLAIN:
        out.append(f"{kind.__name__}:{value!r}")
    elif isinstance(value, enum.Enum):
        out.append(f"enum:{kind.__module__}.{kind.__qualname__}.{value.name}")
    elif kind is ModuleIndex:
        digest = digests.get(value.path)
        if digest is None:
            raise _Unusable(f"the index of {value.path}, read from no known text")
        out.append(f"ix:{value.module}:{value.path}:{digest}")
    elif isinstance(value, tuple | list):
        out.append(f"{kind.__qualname__}(")
        for item in value:
            _encode(item, out, digests)
        out.append(")")
    elif isinstance(value, frozenset | set):
        out.append(f"set{len(value)}(")
        out.extend(sorted(_encoded(item, digests) for item in value))
        out.append(")")
    elif isinstance(value, dict):
        out.append(f"dict{len(value)}(")
        for key, item in value.items():  # in order: a pass may take the first that fits
            _encode(key, out, digests)
            _encode(item, out, digests)
        out.append(")")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out.append(f"{kind.__module__}.{kind.__qualname__}(")
        for item in dataclasses.fields(value):
            _encode(getattr(value, item.name), out, digests)
        out.append(")")
    elif isinstance(value, PurePath):
        out.append(f"path:{value}")
    else:
        raise _Unusable(f"an answer of type {kind.__qualname__}")


def _encoded(value: Any, digests: Mapping[str, str]) -> str:
    out: list[str] = []
    _encode(value, out, digests)
    return "\x00".join(out)


def _digest(value: Any, digests: Mapping[str, str]) -> bytes:
    return hashlib.blake2b(_encoded(value, digests).encode("utf-8", "surrogatepass"),
                           digest_size=12).digest()


def _raised(exc: BaseException) -> bytes:
    return b"raised:" + type(exc).__name__.encode()


def _portable(value: Any) -> Any:
    """An argument as a later run can give it again (and a hashable part of a question)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is ModuleIndex:
        return _IndexOf(value.module, value.path)
    if kind in _PLAIN or isinstance(value, enum.Enum | PurePath):
        return value
    if isinstance(value, _Answer):
        return _AnswerAt(value._root, value._steps)
    if kind in (tuple, frozenset):
        return kind(_portable(item) for item in value)
    if kind is set:
        return frozenset(_portable(item) for item in value)
    if kind is list:
        return _ListOf(tuple(_portable(item) for item in value))
    if isinstance(value, tuple):  # a NamedTuple
        return kind(*(_portable(item) for item in value))
    if kind is dict:
        return _DictOf(tuple((_portable(k), _portable(v)) for k, v in value.items()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and (
            kind.__module__.startswith(__package__ + ".")):  # (no libcst node, say)
        if not _plain(value):
            raise _Unusable(f"an argument of type {kind.__qualname__} holding an index")
        try:
            hash(value)
        except TypeError:
            raise _Unusable(f"an unhashable argument of type {kind.__qualname__}") from None
        return value
    if kind is partial:
        return _PartialOf(_portable(value.func), _portable(value.args),
                          tuple(sorted((k, _portable(v)) for k, v in value.keywords.items())))
    if callable(value) and "<" not in getattr(value, "__qualname__", "<"):
        return _FunctionOf(value.__module__, value.__qualname__)
    raise _Unusable(f"an argument of type {kind.__qualname__}")


def _plain(value: Any) -> bool:
    """A value that stands for itself in a later run (no index, no answer, no function)."""
    kind = type(value)
    if kind in _PLAIN or isinstance(value, enum.Enum | PurePath):
        return True
    if isinstance(value, tuple | list | frozenset | set):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and (
            kind.__module__.startswith(__package__ + ".")):
        return all(_plain(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def _real(value: Any) -> Any:
    return value._value if isinstance(value, _Answer) else value


class Questions:
    """One stage's questions of one file: (root, steps) → digest of the answer."""

    def __init__(self) -> None:
        self.asked: dict[tuple, bytes] = {}
        self.unusable: str | None = None


class Recorder:
    """Where one file's questions go: the questions of the stage under way (`begin`), from
    whichever stage's plan they are asked."""

    def __init__(self, digests: Mapping[str, str]) -> None:
        self.digests = digests
        self.questions = Questions()

    def begin(self) -> Questions:
        """A new stage: its questions from now on (the last stage's are kept as they are)."""
        self.questions = Questions()
        return self.questions

    def note(self, root: str, steps: tuple, value: Any) -> None:
        questions = self.questions
        key = (root, steps)
        if questions.unusable is None and key not in questions.asked:
            try:
                questions.asked[key] = _digest(value, self.digests)
            except _Unusable as exc:
                questions.unusable = str(exc)

    def note_raised(self, root: str, steps: tuple, exc: BaseException) -> None:
        self.questions.asked.setdefault((root, steps), _raised(exc))

    def give_up(self, why: str) -> None:
        if self.questions.unusable is None:
            self.questions.unusable = why


# Answers handed back as the object itself, asked further (a plan, the analyses it holds),
# by type.
_ASKED_FURTHER: dict[type, bool] = {}


def _asked_further(value: Any) -> bool:
    kind = type(value)
    found = _ASKED_FURTHER.get(kind)
    if found is None:
        found = _ASKED_FURTHER[kind] = kind.__module__.startswith(
            __package__ + ".analysis") and not (
            dataclasses.is_dataclass(kind) or issubclass(kind, tuple | enum.Enum))
    return found


class _Answer:
    """An answer handed to the passes in place of the value, noting what they ask of it."""

    __slots__ = ("_value", "_recorder", "_root", "_steps")

    def __init__(self, value: Any, recorder: Recorder, root: str, steps: tuple) -> None:
        self._value, self._recorder, self._root, self._steps = value, recorder, root, steps

    def _note(self, op: tuple, value: Any) -> Any:
        self._recorder.note(self._root, self._steps + (op,), value)
        return value

    def _whole(self) -> Any:
        return self._note(("whole",), self._value)

    def _key(self, key: Any) -> Any:
        try:
            return _portable(key)
        except _Unusable as exc:
            self._recorder.give_up(str(exc))
            return None

    def __bool__(self) -> bool:
        return self._note(("bool",), bool(self._value))

    def __len__(self) -> int:
        return len(self._whole())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._whole())

    def __contains__(self, item: Any) -> bool:
        return self._note(("in", self._key(item)), item in self._value)

    def __hash__(self) -> int:
        return hash(self._whole())

    def __eq__(self, other: object) -> bool:
        return self._whole() == _real(other)

    def __reduce__(self) -> tuple:
        whole = self._whole()
        return (type(whole), (list(whole) if isinstance(whole, Set) else whole,))

    def __getattr__(self, name: str) -> Any:  # any other use of it: the whole value
        if name.startswith("__") or name in _Answer.__slots__:
            raise AttributeError(name)
        return getattr(self._whole(), name)


class _AnsweredSet(_Answer, Set):
    @classmethod
    def _from_iterable(cls, items: Iterable[Any]) -> frozenset:
        return frozenset(items)


class _AnsweredMapping(_Answer, Mapping):
    def __getitem__(self, key: Any) -> Any:
        op = ("item", self._key(key))
        try:
            found = self._value[key]
        except KeyError as exc:
            self._recorder.note_raised(self._root, self._steps + (op,), exc)
            raise
        return self._note(op, found)

    def get(self, key: Any, default: Any = None) -> Any:
        return self._note(("get", self._key(key), self._key(default)),
                          self._value.get(key, default))

    def keys(self) -> Any:
        return self._whole().keys()

    def values(self) -> Any:
        return self._whole().values()

    def items(self) -> Any:
        return self._whole().items()


class _Call:
    """A plan's function, noting each call with its arguments and answer."""

    __slots__ = ("function", "recorder", "root", "steps")

    def __init__(self, function: Callable[..., Any], recorder: Recorder, root: str,
                 steps: tuple) -> None:
        self.function, self.recorder, self.root, self.steps = function, recorder, root, steps

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            given = tuple(map(_portable, args))
            named = tuple(sorted((k, _portable(v)) for k, v in kwargs.items())) if kwargs else ()
        except _Unusable as exc:
            self.recorder.give_up(str(exc))
            return self.function(*map(_real, args), **{k: _real(v) for k, v in kwargs.items()})
        steps = self.steps + (("call", given, named),)
        if _AnswerAt in map(type, given) or kwargs:  # (answers handed on: their values)
            args = tuple(map(_real, args))
            kwargs = {k: _real(v) for k, v in kwargs.items()}
        try:
            value = self.function(*args, **kwargs)
        except Exception as exc:
            self.recorder.note_raised(self.root, steps, exc)
            raise
        if type(value) is GeneratorType:  # what it gives, once
            value = tuple(value)
            self.recorder.note(self.root, steps, value)
            return iter(value)
        if _asked_further(value):
            return Asking(value, self.recorder, self.root, steps)
        self.recorder.note(self.root, steps, value)
        return value


class Asking:
    """A plan (or an analysis it holds) as the passes see it: every question noted in
    `recorder` under `root`, the stage whose plan it is."""

    def __init__(self, target: Any, recorder: Recorder, root: str, steps: tuple = ()) -> None:
        self._target, self._recorder, self._root, self._steps = target, recorder, root, steps

    def __getattr__(self, name: str) -> Any:
        steps = self._steps + (("attr", name),)
        try:
            value = getattr(self._target, name)
        except AttributeError as exc:
            self._recorder.note_raised(self._root, steps, exc)
            raise
        if callable(value) and not isinstance(value, type):
            answer: Any = _Call(value, self._recorder, self._root, steps)
        elif isinstance(value, frozenset | set):
            answer = _AnsweredSet(value, self._recorder, self._root, steps)
        elif isinstance(value, dict):
            answer = _AnsweredMapping(value, self._recorder, self._root, steps)
        elif _asked_further(value):
            answer = Asking(value, self._recorder, self._root, steps)
        else:
            self._recorder.note(self._root, steps, value)
            answer = value
        # A plan's attributes do not change: the same answer next time, without asking.
        self.__dict__[name] = answer
        return answer


# -- a later run: the same questions of its plans ---------------------------------------------

def _restore(value: Any, plans: Mapping[str, Any]) -> Any:
    kind = type(value)
    if kind is _IndexOf:
        found = plans[STAGE_LOCAL].modules.get(value.module)
        if found is None or found.path != value.path:
            raise LookupError(value.module)
        return found
    if kind is _AnswerAt:
        return _navigate(plans[value.root], value.steps, plans)
    if kind is _PartialOf:
        return partial(_restore(value.function, plans), *_restore(value.args, plans),
                       **{k: _restore(v, plans) for k, v in value.keywords})
    if kind is _FunctionOf:
        found = importlib.import_module(value.module)
        for part in value.name.split("."):
            found = getattr(found, part)
        return found
    if kind is _ListOf:
        return [_restore(item, plans) for item in value.items]
    if kind is _DictOf:
        return {_restore(key, plans): _restore(item, plans) for key, item in value.items}
    if kind in (tuple, frozenset):
        return kind(_restore(item, plans) for item in value)
    if isinstance(value, tuple):  # a NamedTuple
        return kind(*(_restore(item, plans) for item in value))
    return value


def _navigate(value: Any, steps: tuple, plans: Mapping[str, Any]) -> Any:
    for op in steps:
        name = op[0]
        if name == "attr":
            value = getattr(value, op[1])
        elif name == "call":
            args = [_restore(a, plans) for a in op[1]]
            value = value(*args, **{k: _restore(v, plans) for k, v in op[2]})
            if type(value) is GeneratorType:
                value = tuple(value)
        elif name == "in":
            value = _restore(op[1], plans) in value
        elif name == "item":
            value = value[_restore(op[1], plans)]
        elif name == "get":
            value = value.get(_restore(op[1], plans), _restore(op[2], plans))
        elif name == "bool":
            value = bool(value)
        # "whole": the value itself
    return value


def answered_alike(questions: Questions, plans: Mapping[str, Any],
                   digests: Mapping[str, str]) -> bool:
    """Whether `plans` (root → the new run's plan of that stage) answer every question as
    before."""
    if questions.unusable is not None:
        return False
    for (root, steps), before in questions.asked.items():
        if root not in plans:
            return False
        try:
            now = _digest(_navigate(plans[root], steps, plans), digests)
        except _Unusable:
            return False
        except Exception as exc:  # noqa: BLE001 - an answer that is an exception now
            now = _raised(exc)
        if now != before:
            return False
    return True
