"""A pytest plugin `lint_vs_runtime.py` loads (`-p lint_capture`) into a corpus project's
suite, in that project's venv: it records every implicit-I/O error SQLAlchemy raises while
the suite runs, and which lines of some files ran.

* Each `MissingGreenlet` ("greenlet_spawn has not been called"), `DetachedInstanceError` and
  `lazy='raise'` error is recorded when it is *created* (so one the code under test catches,
  or a web framework turns into a 500, counts too), with the frames of the project's copy on
  the stack (innermost first: the first is where the attribute was read) and, when an ORM
  loader is on the stack, the class and attribute it was loading.
* A test failing on a coroutine used as a value (an async function called without await)
  is recorded with the frames of its traceback.
* The lines run in the files named by `LVR_TRACE` (a JSON {path: [lines]}) are recorded, so
  that a lint finding the suite never trips can be told apart: ran cleanly, or never ran.

Output: JSON lines appended to `LVR_OUT`. Environment: `LVR_ROOT` (the copy's root).
Standard library only; SQLAlchemy is patched if it is importable.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading

ROOT = os.path.realpath(os.environ.get("LVR_ROOT", os.getcwd())) + os.sep
OUT = os.environ.get("LVR_OUT")
HERE = os.path.realpath(__file__)
_current_test = ""
_lines: dict[str, set[int]] = {}
_lock = threading.Lock()


def _write(record: dict) -> None:
    if OUT:
        with _lock, open(OUT, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def _in_project(filename: str) -> bool:
    if not os.path.isabs(filename):  # "<frozen runpy>", "<string>"
        return False
    path = os.path.realpath(filename)
    return path.startswith(ROOT) and path != HERE and "site-packages" not in path


def _loading(frame) -> dict:
    """What an ORM loader frame on the stack was loading: class, attributes, how."""
    code = frame.f_code
    local = frame.f_locals
    state = local.get("state")
    owner = getattr(getattr(state, "class_", None), "__name__", None)
    if code.co_name == "_load_for_state" and "self" in local:
        loader = type(local["self"]).__name__
        how = "deferred" if "Deferred" in loader else "lazy"
        return {"class": owner, "attrs": [getattr(local["self"], "key", "?")], "how": how}
    if code.co_name == "load_scalar_attributes":
        names = local.get("attribute_names")
        return {"class": owner, "attrs": sorted(names) if names else [], "how": "expired"}
    return {}


def _record(kind: str, message: str) -> None:
    frame = sys._getframe(2)
    project, orm, inner = [], {}, []
    while frame is not None:
        filename = frame.f_code.co_filename
        if _in_project(filename):
            project.append({"path": os.path.relpath(os.path.realpath(filename), ROOT),
                            "line": frame.f_lineno, "function": frame.f_code.co_name})
        else:
            if not orm:
                orm = _loading(frame)
            if not project and len(inner) < 12:
                inner.append(f"{os.path.basename(filename)}:{frame.f_code.co_name}")
        frame = frame.f_back
    _write({"event": "error", "kind": kind, "message": message.splitlines()[0][:300],
            "test": _current_test, "frames": project, "loading": orm, "inner": inner})


def _patch(cls: type, kind: str, only: str | None = None) -> None:
    original = cls.__init__

    def __init__(self, *args, **kwargs):  # noqa: N807
        message = str(args[0]) if args else ""
        if only is None or only in message:
            try:
                _record(kind, message)
            except Exception as exc:  # never break the suite
                _write({"event": "plugin-error", "error": repr(exc)})
        original(self, *args, **kwargs)

    cls.__init__ = __init__


try:
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.orm import exc as orm_exc
except ImportError:
    pass
else:
    _patch(sa_exc.MissingGreenlet, "MissingGreenlet")
    _patch(orm_exc.DetachedInstanceError, "DetachedInstanceError")
    _patch(sa_exc.InvalidRequestError, "lazy-raise", only="lazy='raise'")


# -- lines run in the traced files ---------------------------------------------------------
def _traced() -> set[str]:
    path = os.environ.get("LVR_TRACE")
    if not path:
        return set()
    with open(path, encoding="utf-8") as handle:
        return {os.path.realpath(os.path.join(ROOT, p)) for p in json.load(handle)}


_TRACED = _traced()
_by_code: dict[object, str | None] = {}


def _global(frame, event, arg):
    code = frame.f_code
    path = _by_code.get(code, "")
    if path == "":
        real = os.path.realpath(code.co_filename)
        path = _by_code[code] = real if real in _TRACED else None
    if path is None:
        return None
    seen = _lines.setdefault(path, set())

    def local(frame, event, arg):
        if event == "line":
            seen.add(frame.f_lineno)
        return local

    seen.add(frame.f_lineno)
    return local


def _dump_lines() -> None:
    global _TRACED
    sys.settrace(None)
    threading.settrace(None)  # type: ignore[arg-type]
    if _TRACED:
        _write({"event": "lines", "lines": {os.path.relpath(p, ROOT): sorted(v)
                                            for p, v in _lines.items()}})
        _TRACED = set()


if _TRACED:
    sys.settrace(_global)
    threading.settrace(_global)
    atexit.register(_dump_lines)


def pytest_unconfigure(config) -> None:
    _dump_lines()


def pytest_runtest_setup(item) -> None:
    global _current_test
    _current_test = item.nodeid


def pytest_runtest_makereport(item, call) -> None:
    """A test failing on a coroutine used as a value (`'coroutine' object has no attribute`,
    `... is not iterable`): an async function called without await. Recorded with the
    frames of the copy in its traceback, innermost first."""
    error = call.excinfo.value if call.excinfo is not None else None
    if error is None or "coroutine" not in str(error) or not isinstance(
            error, AttributeError | TypeError):
        return
    frames = []
    tb = error.__traceback__
    while tb is not None:
        if _in_project(tb.tb_frame.f_code.co_filename):
            frames.append({"path": os.path.relpath(
                os.path.realpath(tb.tb_frame.f_code.co_filename), ROOT),
                "line": tb.tb_lineno, "function": tb.tb_frame.f_code.co_name})
        tb = tb.tb_next
    _write({"event": "error", "kind": f"coroutine {type(error).__name__}",
            "message": str(error).splitlines()[0][:300], "test": item.nodeid,
            "frames": frames[::-1], "loading": {}, "inner": []})
