#!/usr/bin/env python3
"""Sanity checks for the synthetic project that ``run_benchmark.py`` generates.

Checks that every generated file compiles, module sizes stay within 40-120 lines, output
is deterministic for a seed, every module imports, each package's models create their
tables on ``sqlite://``, and the generated sync data-access functions actually run.
Needs SQLAlchemy (a project dependency); exits non-zero on any failure.

    python benchmarks/check_generator.py --modules 200
"""

from __future__ import annotations

import argparse
import filecmp
import importlib
import inspect
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_benchmark import MAX_LINES, MIN_LINES, ROOT_PACKAGE, generate_project  # noqa: E402


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def _argument(annotation: Any, session: Any) -> Any:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    text = str(text)
    values: dict[str, Any] = {
        "Session": session,
        "int": 1,
        "str": "alpha",
        "bool": True,
        "float": 1.5,
        "list[str]": ["alpha", "beta", " "],
        "list[int]": [1, 2, 3],
    }
    if text in values:
        return values[text]
    raise LookupError(text)


def _call_order(name: str) -> int:
    if name.startswith("create_"):
        return 0
    if name.startswith(("delete_", "clear_", "reset_")):
        return 2
    return 1


def smoke_call(module: Any, session_factory: Callable[[], Any]) -> tuple[int, int, list[str]]:
    """Call every plain function defined in ``module`` whose arguments we can invent."""
    calls = skipped = 0
    failures: list[str] = []
    functions = [
        (name, obj)
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__
    ]
    for name, func in sorted(functions, key=lambda item: (_call_order(item[0]), item[0])):
        with session_factory() as session:
            try:
                kwargs = {
                    p.name: _argument(p.annotation, session)
                    for p in inspect.signature(func).parameters.values()
                    if p.default is inspect.Parameter.empty
                }
            except LookupError:
                skipped += 1
                continue
            try:
                result = func(**kwargs)
                if inspect.isgenerator(result):
                    next(result, None)
                    result.close()
                calls += 1
            except Exception as exc:  # noqa: BLE001 - reported, not hidden
                failures.append(f"{module.__name__}.{name}: {type(exc).__name__}: {exc}")
    return calls, skipped, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sqla-fraction", type=float, default=0.33)
    args = parser.parse_args()
    problems: list[str] = []

    with tempfile.TemporaryDirectory(prefix="sqla-asyncify-check-") as tmp:
        out = Path(tmp) / "a"
        info = generate_project(out, args.modules, args.sqla_fraction, args.seed)
        print(
            f"generated {info.py_files} .py files ({info.modules} modules, "
            f"{info.sqla_modules} SQLAlchemy, {info.packages} packages, {info.lines} lines) "
            f"in {info.seconds:.2f}s"
        )

        # 1. Everything compiles; module sizes are in range.
        sizes: list[int] = []
        sqla_files = 0
        for path in sorted(out.rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            try:
                compile(source, str(path), "exec")
            except SyntaxError as exc:
                problems.append(f"compile: {path}: {exc}")
            if "sqlalchemy" in source or "SessionLocal" in source:
                sqla_files += 1
            if path.name != "__init__.py":
                lines = source.count("\n")
                sizes.append(lines)
                if not MIN_LINES <= lines <= MAX_LINES:
                    problems.append(f"size: {path} has {lines} lines")
        print(
            f"compiled {info.py_files} files; module lines min {min(sizes)} "
            f"median {sorted(sizes)[len(sizes) // 2]} max {max(sizes)}; "
            f"{sqla_files} files mention SQLAlchemy"
        )
        if len(sizes) != args.modules:
            problems.append(f"expected {args.modules} modules, found {len(sizes)}")

        # 2. Deterministic for a seed, different for another seed.
        again = generate_project(Path(tmp) / "b", args.modules, args.sqla_fraction, args.seed)
        if not _same_tree(out, again.root):
            problems.append("determinism: same seed produced a different tree")
        other = generate_project(Path(tmp) / "c", args.modules, args.sqla_fraction, args.seed + 1)
        if _same_tree(out, other.root):
            problems.append("determinism: a different seed produced the same tree")

        # 3. Every module imports; models create their tables; DAO functions run.
        sys.dont_write_bytecode = True
        sys.path.insert(0, str(out))
        warnings.simplefilter("ignore")  # Query.get() is legacy on purpose
        modules = sorted(
            ".".join(p.relative_to(out).with_suffix("").parts).removesuffix(".__init__")
            for p in out.rglob("*.py")
        )
        imported: dict[str, Any] = {}
        for name in modules:
            try:
                imported[name] = importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"import {name}: {type(exc).__name__}: {exc}")
        print(f"imported {len(imported)}/{len(modules)} modules")

        database = imported.get(f"{ROOT_PACKAGE}.database")
        tables = packages = calls = skipped = 0
        if database is not None:
            for name, module in imported.items():
                if name.endswith(".models"):
                    module.Base.metadata.create_all(database.engine)
                    tables += len(module.Base.metadata.tables)
                    packages += 1
            print(f"create_all on sqlite:// made {tables} tables for {packages} packages")
            for module in imported.values():
                n_calls, n_skipped, failures = smoke_call(module, database.SessionLocal)
                calls += n_calls
                skipped += n_skipped
                problems.extend(f"call {f}" for f in failures)
            print(f"smoke-called {calls} generated functions ({skipped} needed objects; skipped)")
            if calls == 0:
                problems.append("no generated function could be called")
        elif info.sqla_modules:
            problems.append("synthapp.database did not import")

    for problem in problems[:50]:
        print(f"FAIL {problem}")
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print("generator OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
