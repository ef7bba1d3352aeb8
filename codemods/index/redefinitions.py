"""Functions defined again under the same name: the scope key of each definition.

One statement list binding a name twice with `def` (`@router.get("/login/") def login(): ...`
then `@router.post("/login/") def login(name): ...`) defines two functions: each decorator
registered its own, and the name keeps the last. So they are two scopes of the index, each
coloured by what its own body does: the last keeps the plain qualified name (a call by name
reaches it), each earlier one gets `name@n` (n: its place among the definitions of the name
there, from 1), a key no name resolves to.

Kept as one scope, as before: definitions in different statement lists (alternatives: `if` /
`else`, `try` / `except ImportError`), `@overload` stubs (they describe the implementation),
and definitions extending the one before (`@name.setter`, `@name.expression`).

The index (`ast`) and the rewrite (libcst) both number the definitions of a qualified name in
the order they appear; `ModuleIndex.redefined` hands the index's keys to the rewrite.
"""

from __future__ import annotations

from collections.abc import Sequence

SEPARATOR = "@"


def split_keys(definitions: Sequence[tuple[str, Sequence[str]]]) -> dict[int, str]:
    """For the `def`s of one statement list, as (name, dotted decorators) in order: the key of
    each definition a later one of its name rebinds, by its index in `definitions`."""
    places: dict[str, list[int]] = {}
    for i, (name, _) in enumerate(definitions):
        places.setdefault(name, []).append(i)
    keys: dict[int, str] = {}
    for name, at in places.items():
        decorators = [d for i in at for d in definitions[i][1]]
        if len(at) < 2 or any(d.rpartition(".")[2] == "overload" or d.startswith(f"{name}.")
                              for d in decorators):
            continue
        for n, i in enumerate(at[:-1], 1):
            keys[i] = f"{name}{SEPARATOR}{n}"
    return keys


class DefinitionKeys:
    """The scope keys of the functions a traversal meets, numbering the definitions of each
    redefined qualified name in the order it meets them (`redefined`: the index's keys)."""

    def __init__(self, redefined: dict[str, tuple[str, ...]]) -> None:
        self.redefined = redefined
        self.seen: dict[str, int] = {}

    def key(self, scope: str, name: str) -> str:
        """The last part of the scope key of the next definition of `name` in `scope`."""
        if not self.redefined:
            return name
        plain = f"{scope}.{name}" if scope else name
        keys = self.redefined.get(plain)
        if not keys:
            return name
        n = self.seen.get(plain, 0)
        self.seen[plain] = n + 1
        # (a definition the index did not see, as a rule's own: its plain name)
        return keys[n].rpartition(".")[2] if n < len(keys) else name


def plain_name(scope: str) -> str:
    """The function's name in a scope key: `login` for `views.login@1` as for `views.login`."""
    return scope.rpartition(".")[2].partition(SEPARATOR)[0]
