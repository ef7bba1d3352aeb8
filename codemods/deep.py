"""Deeply nested code (hundreds of nested calls, a chain of a thousand steps, thousands of `+`
terms): what CPython compiles, the tool must analyse and rewrite too.

The `ast` and libcst visitors recurse once or more per level of nesting, so such files reach
Python's recursion limit (1,000 frames) long before CPython's compiler gives up. Raising the
limit for the whole process would risk overflowing the main thread's C stack, so a file that
hits the limit is done again in a helper thread with a big stack and a high limit; every other
file takes the usual path at no cost. (Measured on CPython 3.11: 2,993 `+` terms, 200 nested
calls and a 1,496-step call chain compile; each is migrated this way, in 1 to 20 s, most of it
in libcst's parser.)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

DEFAULT_RECURSION_LIMIT = sys.getrecursionlimit()
DEEP_RECURSION_LIMIT = 100_000
DEEP_STACK_BYTES = 1 << 30  # address space, touched only as deep as the recursion goes

_Result = TypeVar("_Result")
_one_at_a_time = threading.Lock()  # the recursion limit is one for the whole process


def call_deep(function: Callable[..., _Result], *args: object) -> _Result:
    """`function(*args)` in a thread with a big stack and a high recursion limit."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    with _one_at_a_time:
        limit_before = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit_before, DEEP_RECURSION_LIMIT))
        try:
            _start_with_big_stack(target).join()
        finally:
            sys.setrecursionlimit(limit_before)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _start_with_big_stack(target: Callable[[], None]) -> threading.Thread:
    """A started thread with the biggest stack the system grants of a few sizes (a strict
    memory overcommit policy may refuse a big one)."""
    for size in (DEEP_STACK_BYTES, DEEP_STACK_BYTES // 4, DEEP_STACK_BYTES // 16):
        before = threading.stack_size(size)
        try:
            thread = threading.Thread(target=target, name="sqla-asyncify-deep", daemon=True)
            thread.start()
            return thread
        except RuntimeError:  # "can't start new thread"
            continue
        finally:
            threading.stack_size(before)
    raise RecursionError("no thread with a stack big enough for this file could be started")


def retry_deep(function: Callable[..., _Result], *args: object) -> _Result:
    """`function(*args)`; again with `call_deep` when it reaches the recursion limit
    (`function` must be safe to call twice)."""
    try:
        return function(*args)
    except RecursionError:
        return call_deep(function, *args)


def _depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def compile_as_python_would(source: str, path: str) -> None:
    """`compile()` as a user's Python does it: CPython's compiler scales its own limit from
    the recursion limit less the frames already in use, so this compiles under the default
    limit as if no frame were in use (as `python module.py` does), also from a deep thread with
    its raised limit. Raises SyntaxError, or RecursionError for code nested too deeply for
    Python to compile."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT + _depth())
    try:
        compile(source, path, "exec", dont_inherit=True)
    finally:
        sys.setrecursionlimit(before)
