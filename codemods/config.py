"""What a run is asked to do: which rules, which target, which test plugin."""

from __future__ import annotations

from dataclasses import dataclass

TARGETS = ("async", "sync")
PYTEST_PLUGINS = ("asyncio", "anyio")


@dataclass(frozen=True)
class Config:
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    # "async": AsyncSession + await; "sync": 2.0-style select() on the same sync sessions
    target: str = "async"
    # how tests and fixtures that became async are marked: pytest-asyncio or anyio
    pytest_plugin: str = "asyncio"
    # worker processes for the per-file passes (1: all in this process)
    jobs: int = 1
    # SQA402: relationships without lazy= get lazy="raise" (implicit loads fail in tests)
    strict_loading: bool = False
    # "pkg.module:function" entry points called synchronously (SQA305 keeps sync wrappers)
    console_scripts: frozenset[str] = frozenset()
    # where the project index is cached by content hash (None: no cache)
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r} (one of {', '.join(TARGETS)})")
        if self.pytest_plugin not in PYTEST_PLUGINS:
            raise ValueError(f"unknown pytest plugin {self.pytest_plugin!r} "
                             f"(one of {', '.join(PYTEST_PLUGINS)})")
