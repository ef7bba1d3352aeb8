#!/usr/bin/env python3
"""Throughput benchmark for sqla-asyncify.

Generates a deterministic synthetic project (a few thousand modules, about a third of
them using SQLAlchemy in the usual synchronous ways), then times a dry run of
``python -m cli migrate DIR --format json`` on it and reports files/s, wall time and
peak RSS.  ``--baseline`` also times, in-process, stdlib ``ast.parse`` and
``libcst.parse_module`` over the same files as reference points.

Standard library only (``libcst`` is imported lazily for ``--baseline``).

    python benchmarks/run_benchmark.py                      # 2000 modules, 3 timed runs
    python benchmarks/run_benchmark.py --baseline --json    # + parser baselines, JSON out
    python benchmarks/run_benchmark.py --workers 1,2 -- --some-cli-flag
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from textwrap import dedent
from typing import Any

ROOT_PACKAGE = "synthapp"
MARKER_FILE = ".sqla-asyncify-benchmark"
MIN_LINES = 40
MAX_LINES = 120
REPO_ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# Word pools (order matters: generation must be deterministic for a given seed)
# --------------------------------------------------------------------------------------

PACKAGE_WORDS = [
    "accounts", "analytics", "appointments", "audit", "billing", "bookings", "campaigns",
    "catalog", "clinics", "compliance", "content", "contracts", "courses", "crm",
    "enrollments", "events", "fleet", "forecasting", "grading", "helpdesk", "inventory",
    "invoicing", "logistics", "loyalty", "marketing", "media", "notifications", "orders",
    "payments", "payroll", "pricing", "procurement", "projects", "reporting", "reviews",
    "scheduling", "search", "shipping", "subscriptions", "surveys", "taxes", "timesheets",
    "vendors", "warehouse",
]  # fmt: skip

ENTITY_WORDS = [
    "Account", "Address", "Appointment", "Batch", "Booking", "Campaign", "Category",
    "Clinic", "Comment", "Contract", "Coupon", "Course", "Customer", "Department",
    "Driver", "Employee", "Invoice", "Item", "Ledger", "Member", "Note", "Order",
    "Patient", "Payment", "Plan", "Product", "Project", "Receipt", "Report", "Review",
    "Route", "Shipment", "Student", "Subscription", "Supplier", "Survey", "Tag", "Task",
    "Ticket", "Vehicle", "Vendor", "Venue",
]  # fmt: skip

INT_FIELDS = ["score", "quantity", "priority", "rank", "balance_cents", "rating", "position"]
BOOL_FIELDS = ["active", "enabled", "published", "verified", "archived", "flagged"]
TEXT_FIELDS = ["email", "description", "reference", "code", "notes", "external_id"]

DAO_MODULE_WORDS = [
    "queries", "repository", "services", "crud", "reports", "store", "handlers", "admin",
    "sync", "jobs", "api", "tasks",
]  # fmt: skip

PLAIN_MODULE_WORDS = [
    "utils", "helpers", "formatting", "validation", "text", "config", "parsing", "schemas",
    "constants", "metrics", "cache", "events", "paths", "dates", "retry", "serializers",
    "types", "pagination", "collections", "transforms",
]  # fmt: skip

TOPIC_WORDS = [
    "address", "amount", "badge", "banner", "batch", "caption", "channel", "chunk", "digest",
    "entry", "excerpt", "feed", "field", "header", "headline", "label", "ledger", "line",
    "marker", "memo", "message", "metric", "name", "note", "notice", "outline", "packet",
    "payload", "phrase", "prefix", "quote", "record", "remark", "sample", "segment", "slug",
    "snippet", "summary", "tag", "teaser", "ticket", "title", "token", "topic", "window",
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _snake(camel: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(camel):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def _tpl(text: str, **values: str) -> str:
    """Dedent ``text`` and substitute ``${name}`` placeholders."""
    return Template(dedent(text).strip("\n")).substitute(values)


def _unique_names(rng: random.Random, pool: Sequence[str], count: int) -> list[str]:
    """``count`` distinct names drawn from ``pool``; suffixed once the pool runs out."""
    names: list[str] = []
    seen: set[str] = set()
    round_no = 1
    while len(names) < count:
        shuffled = list(pool)
        rng.shuffle(shuffled)
        for word in shuffled:
            name = word if round_no == 1 else f"{word}_{round_no}"
            if name not in seen:
                seen.add(name)
                names.append(name)
            if len(names) == count:
                break
        round_no += 1
    return names


def _import_order(name: str) -> tuple[int, str]:
    """isort/ruff "order by type": CONSTANTS, then Classes, then functions."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


class Imports:
    """Collects import statements and renders them isort-style."""

    def __init__(self) -> None:
        self.plain: set[str] = set()
        self.from_: dict[str, set[str]] = {}

    def copy(self) -> Imports:
        other = Imports()
        other.plain = set(self.plain)
        other.from_ = {mod: set(names) for mod, names in self.from_.items()}
        return other

    def add_from(self, module: str, name: str) -> None:
        self.from_.setdefault(module, set()).add(name)

    @staticmethod
    def _section(module: str) -> int:
        if module.startswith("."):
            return 3
        if module.split(".")[0] == ROOT_PACKAGE:
            return 2
        if module.split(".")[0] == "sqlalchemy":
            return 1
        return 0

    def render(self) -> list[str]:
        sections: list[list[str]] = [[], [], [], []]
        for module in sorted(self.plain):
            sections[self._section(module)].append(f"import {module}")
        for module in sorted(self.from_, key=lambda m: (m.lstrip("."), m)):
            names = sorted(self.from_[module], key=_import_order)
            line = f"from {module} import {', '.join(names)}"
            if len(line) > 100:
                body = "".join(f"    {name},\n" for name in names)
                line = f"from {module} import (\n{body})"
            sections[self._section(module)].append(line)
        out: list[str] = []
        for section in sections:
            if section:
                if out:
                    out.append("")
                out.extend(section)
        return out


@dataclass
class Piece:
    """One top-level definition a template produced."""

    name: str
    text: str
    imports: list[tuple[str, str]] = field(default_factory=list)
    plain_imports: list[str] = field(default_factory=list)
    deps: list[tuple[str, ModelSpec]] = field(default_factory=list)
    str_funcs: list[str] = field(default_factory=list)
    needs_future: bool = False


@dataclass
class Proposal:
    blocks: list[str] = field(default_factory=list)
    local_defs: list[str] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    imports: list[tuple[str, str]] = field(default_factory=list)
    plain_imports: list[str] = field(default_factory=list)
    str_funcs: list[str] = field(default_factory=list)
    needs_future: bool = False

    def add_piece(self, piece: Piece) -> None:
        self.blocks.append(piece.text)
        self.local_defs.append(piece.name)
        self.imports.extend(piece.imports)
        self.plain_imports.extend(piece.plain_imports)
        self.str_funcs.extend(piece.str_funcs)
        self.needs_future = self.needs_future or piece.needs_future


class ModuleBuilder:
    def __init__(self, docstring: str, future: bool) -> None:
        self.docstring = docstring
        self.future = future
        self.imports = Imports()
        self.blocks: list[str] = []
        self.names: set[str] = set()
        self.local_defs: list[str] = []
        self.str_funcs: list[str] = []
        self.kinds: set[str] = set()

    @staticmethod
    def _render(
        docstring: str, future: bool, imports: Imports, blocks: Sequence[str], trailer: str = ""
    ) -> str:
        parts = [f'"""{docstring}"""']
        if future:
            parts += ["", "from __future__ import annotations"]
        rendered = imports.render()
        if rendered:
            parts += [""] + rendered
        for block in blocks:
            parts += ["", "", block]
        if trailer:
            parts += ["", "", trailer]
        return "\n".join(parts) + "\n"

    def _apply(self, imports: Imports, proposal: Proposal) -> None:
        for module, name in proposal.imports:
            imports.add_from(module, name)
        imports.plain.update(proposal.plain_imports)

    def lines_with(self, proposal: Proposal) -> int:
        imports = self.imports.copy()
        self._apply(imports, proposal)
        future = self.future or proposal.needs_future
        text = self._render(self.docstring, future, imports, self.blocks + proposal.blocks)
        return text.count("\n")

    def lines(self) -> int:
        return self.render().count("\n")

    def commit(self, proposal: Proposal) -> None:
        self._apply(self.imports, proposal)
        self.future = self.future or proposal.needs_future
        self.blocks.extend(proposal.blocks)
        self.names.update(proposal.local_defs)
        self.names.update(proposal.imported)
        self.local_defs.extend(proposal.local_defs)
        self.str_funcs.extend(proposal.str_funcs)

    def render(self, trailer: str = "") -> str:
        return self._render(self.docstring, self.future, self.imports, self.blocks, trailer)


def _fill(
    builder: ModuleBuilder, target: int, propose: Callable[[], Proposal | None], attempts: int = 80
) -> None:
    """Add proposals until the module is about ``target`` lines long (within bounds)."""
    for _ in range(attempts):
        current = builder.lines()
        if current >= target - 3 and current >= MIN_LINES:
            return
        proposal = propose()
        if proposal is None or not proposal.blocks:
            continue
        new_lines = builder.lines_with(proposal)
        if new_lines > MAX_LINES:
            continue
        if new_lines > target and current >= MIN_LINES:
            continue
        builder.commit(proposal)


# --------------------------------------------------------------------------------------
# Project model
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class ModelSpec:
    name: str
    snake: str
    plural: str
    table: str
    int_field: str
    bool_field: str
    text_field: str
    parent: ModelSpec | None = field(default=None, repr=False)
    children: list[ModelSpec] = field(default_factory=list, repr=False)


@dataclass(eq=False)
class PackageSpec:
    name: str
    n_modules: int
    n_sqla: int
    optional_style: bool
    future: bool
    absolute_db_import: bool
    models: list[ModelSpec] = field(default_factory=list)
    registry: dict[str, str] = field(default_factory=dict)
    text_registry: dict[str, str] = field(default_factory=dict)

    @property
    def db_module(self) -> str:
        return f"{ROOT_PACKAGE}.database" if self.absolute_db_import else "..database"

    def opt(self, type_name: str) -> str:
        return f"Optional[{type_name}]" if self.optional_style else f"{type_name} | None"


@dataclass
class DaoContext:
    rng: random.Random
    pkg: PackageSpec
    session: str  # parameter name for the Session: "session" or "db"

    def opt_imports(self) -> list[tuple[str, str]]:
        return [("typing", "Optional")] if self.pkg.optional_style else []


@dataclass
class TreeInfo:
    root: Path
    py_files: int
    modules: int
    sqla_modules: int
    packages: int
    lines: int
    bytes: int
    seconds: float
    seed: int


# --------------------------------------------------------------------------------------
# SQLAlchemy code: database.py, models.py, data-access modules
# --------------------------------------------------------------------------------------

DATABASE_MODULE = '''"""Engine and session factory shared by every package."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL = os.environ.get("SYNTHAPP_DATABASE_URL", "sqlite://")
ECHO_SQL = os.environ.get("SYNTHAPP_ECHO_SQL", "") == "1"

engine = create_engine(DATABASE_URL, echo=ECHO_SQL)
SessionLocal = sessionmaker(bind=engine, autoflush=False)


def get_session() -> Session:
    """Return a new session; the caller is responsible for closing it."""
    return SessionLocal()


@contextmanager
def session_scope() -> Iterator[Session]:
    """Provide a transactional scope around a series of operations."""
    session = SessionLocal()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def create_all(*bases: type) -> None:
    """Create the tables of every declarative base passed in."""
    for base in bases:
        base.metadata.create_all(engine)  # type: ignore[attr-defined]


def drop_all(*bases: type) -> None:
    for base in reversed(bases):
        base.metadata.drop_all(engine)  # type: ignore[attr-defined]


def ping() -> bool:
    """Cheap connectivity check used by health endpoints."""
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT 1").scalar() == 1
'''


def _make_models(rng: random.Random, pkg: PackageSpec) -> None:
    count = rng.randint(2, 4)
    entities = rng.sample(ENTITY_WORDS, count)
    for i, entity in enumerate(entities):
        snake = _snake(entity)
        model = ModelSpec(
            name=entity,
            snake=snake,
            plural=_plural(snake),
            table=f"{pkg.name}_{_plural(snake)}",
            int_field=rng.choice(INT_FIELDS),
            bool_field=rng.choice(BOOL_FIELDS),
            text_field=rng.choice(TEXT_FIELDS),
        )
        if i and rng.random() < 0.8:
            model.parent = rng.choice(pkg.models)
            model.parent.children.append(model)
        pkg.models.append(model)


def _wrap_call(head: str, args: str) -> list[str]:
    """``head`` ends with "(": one line if it fits in 100 columns, else args indented."""
    line = f"{head}{args})"
    if len(line) <= 100:
        return [line]
    return [head, f"        {args}", "    )"]


def _models_module(pkg: PackageSpec) -> str:
    future = pkg.future
    imports = Imports()
    imports.add_from("datetime", "datetime")
    for name in ("DateTime", "Integer", "String", "Boolean", "func"):
        imports.add_from("sqlalchemy", name)
    for name in ("DeclarativeBase", "Mapped", "mapped_column"):
        imports.add_from("sqlalchemy.orm", name)
    if pkg.optional_style:
        imports.add_from("typing", "Optional")

    def ref(model: ModelSpec) -> str:
        return model.name if future else f'"{model.name}"'

    blocks = ["class Base(DeclarativeBase):\n    pass"]
    for model in pkg.models:
        rows = [
            f"class {model.name}(Base):",
            f'    __tablename__ = "{model.table}"',
            "",
            "    id: Mapped[int] = mapped_column(primary_key=True)",
            "    name: Mapped[str] = mapped_column(String(120), index=True)",
            f"    {model.text_field}: Mapped[{pkg.opt('str')}] = mapped_column(String(255))",
            f"    {model.int_field}: Mapped[int] = mapped_column(Integer, default=0)",
            f"    {model.bool_field}: Mapped[bool] = mapped_column(Boolean, default=True)",
            "    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())",
        ]
        if model.parent is not None:
            parent = model.parent
            imports.add_from("sqlalchemy", "ForeignKey")
            imports.add_from("sqlalchemy.orm", "relationship")
            rows += _wrap_call(
                f"    {parent.snake}_id: Mapped[int] = mapped_column(",
                f'ForeignKey("{parent.table}.id"), index=True',
            )
            rows += _wrap_call(
                f"    {parent.snake}: Mapped[{ref(parent)}] = relationship(",
                f'back_populates="{model.plural}"',
            )
        for child in model.children:
            imports.add_from("sqlalchemy.orm", "relationship")
            rows += _wrap_call(
                f"    {child.plural}: Mapped[list[{ref(child)}]] = relationship(",
                f'back_populates="{model.snake}", cascade="all, delete-orphan"',
            )
        rows += [
            "",
            "    def __repr__(self) -> str:",
            f'        return f"{model.name}(id={{self.id!r}}, name={{self.name!r}})"',
        ]
        blocks.append("\n".join(rows))
    names = ", ".join(f'"{n}"' for n in ["Base"] + [m.name for m in pkg.models])
    return ModuleBuilder._render(
        f"ORM models for the {pkg.name} package.", future, imports, blocks, f"__all__ = [{names}]"
    )


# Each DAO template returns a Piece (or None when it does not apply to the model).
# ``${s}`` is the Session parameter name, ``${M}`` the model class, ``${m}`` its snake name.


def _dao_values(ctx: DaoContext, model: ModelSpec) -> dict[str, str]:
    return {
        "s": ctx.session,
        "M": model.name,
        "m": model.snake,
        "P": model.plural,
        "ifield": model.int_field,
        "bfield": model.bool_field,
        "tfield": model.text_field,
        "OptM": ctx.pkg.opt(model.name),
    }


def _session_import() -> tuple[str, str]:
    return ("sqlalchemy.orm", "Session")


def _model_import(model: ModelSpec) -> tuple[str, str]:
    return (".models", model.name)


def _dao_get(ctx: DaoContext, model: ModelSpec) -> Piece:
    body = ctx.rng.choice(
        [
            "return ${s}.query(${M}).get(${m}_id)",
            "return ${s}.query(${M}).filter(${M}.id == ${m}_id).first()",
            "return ${s}.get(${M}, ${m}_id)",
        ]
    )
    text = _tpl(
        f"""
        def get_${{m}}(${{s}}: Session, ${{m}}_id: int) -> ${{OptM}}:
            {body}
        """,
        **_dao_values(ctx, model),
    )
    imports = [_session_import(), _model_import(model), *ctx.opt_imports()]
    return Piece(f"get_{model.snake}", text, imports)


def _dao_count(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def count_${P}(${s}: Session, minimum: int = 0) -> int:
            return ${s}.query(${M}).filter(${M}.${ifield} >= minimum).count()
        """,
        **_dao_values(ctx, model),
    )
    return Piece(f"count_{model.plural}", text, [_session_import(), _model_import(model)])


def _dao_list_flagged(ctx: DaoContext, model: ModelSpec) -> Piece:
    cond = ctx.rng.choice(
        [
            ".filter(${M}.${bfield}.is_(True))",
            ".filter(${M}.${bfield} == True)  # noqa: E712",
            ".filter_by(${bfield}=True)",
        ]
    )
    text = _tpl(
        f"""
        def list_${{bfield}}_${{P}}(${{s}}: Session, limit: int = 50) -> list[${{M}}]:
            return (
                ${{s}}.query(${{M}})
                {cond}
                .order_by(${{M}}.${{ifield}}.desc(), ${{M}}.id)
                .limit(limit)
                .all()
            )
        """,
        **_dao_values(ctx, model),
    )
    name = f"list_{model.bool_field}_{model.plural}"
    return Piece(name, text, [_session_import(), _model_import(model)])


def _dao_find_by_name(ctx: DaoContext, model: ModelSpec) -> Piece:
    body = ctx.rng.choice(
        [
            "return ${s}.query(${M}).filter(${M}.name == name).first()",
            "return ${s}.query(${M}).filter_by(name=name).order_by(${M}.id).first()",
        ]
    )
    text = _tpl(
        f"""
        def find_${{m}}_by_name(${{s}}: Session, name: str) -> ${{OptM}}:
            {body}
        """,
        **_dao_values(ctx, model),
    )
    imports = [_session_import(), _model_import(model), *ctx.opt_imports()]
    return Piece(f"find_{model.snake}_by_name", text, imports)


def _parent_bits(model: ModelSpec) -> tuple[str, str]:
    """Extra constructor parameter and keyword for models with a parent."""
    if model.parent is None:
        return "", ""
    key = f"{model.parent.snake}_id"
    return f", {key}: int = 1", f", {key}={key}"


def _dao_create(ctx: DaoContext, model: ModelSpec) -> Piece:
    param, kwarg = _parent_bits(model)
    text = _tpl(
        f"""
        def create_${{m}}(${{s}}: Session, name: str, ${{ifield}}: int = 0{param}) -> ${{M}}:
            ${{m}} = ${{M}}(name=name, ${{ifield}}=${{ifield}}{kwarg})
            ${{s}}.add(${{m}})
            ${{s}}.commit()
            return ${{m}}
        """,
        **_dao_values(ctx, model),
    )
    if ctx.rng.random() < 0.6:
        commit = f"    {ctx.session}.commit()\n"
        text = text.replace(commit, f"{commit}    {ctx.session}.refresh({model.snake})\n")
    return Piece(f"create_{model.snake}", text, [_session_import(), _model_import(model)])


def _dao_adjust(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def adjust_${m}_${ifield}(${s}: Session, ${m}_id: int, delta: int = 1) -> bool:
            ${m} = get_${m}(${s}, ${m}_id)
            if ${m} is None:
                return False
            ${m}.${ifield} += delta
            ${s}.commit()
            return True
        """,
        **_dao_values(ctx, model),
    )
    name = f"adjust_{model.snake}_{model.int_field}"
    return Piece(name, text, [_session_import()], deps=[("get", model)])


def _dao_delete(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def delete_${m}(${s}: Session, ${m}_id: int) -> bool:
            ${m} = ${s}.get(${M}, ${m}_id)
            if ${m} is None:
                return False
            ${s}.delete(${m})
            ${s}.commit()
            return True
        """,
        **_dao_values(ctx, model),
    )
    return Piece(f"delete_{model.snake}", text, [_session_import(), _model_import(model)])


def _dao_children_summary(ctx: DaoContext, model: ModelSpec) -> Piece | None:
    if not model.children:
        return None
    child = ctx.rng.choice(model.children)
    values = _dao_values(ctx, model) | {"C": child.plural, "cint": child.int_field}
    text = _tpl(
        """
        def ${m}_${C}_summary(${s}: Session, ${m}_id: int) -> list[str]:
            ${m} = get_${m}(${s}, ${m}_id)
            if ${m} is None:
                return []
            return [f"{child.name}: {child.${cint}}" for child in ${m}.${C}]
        """,
        **values,
    )
    name = f"{model.snake}_{child.plural}_summary"
    return Piece(name, text, [_session_import()], deps=[("get", model)])


def _dao_rename(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def rename_${m}(${s}: Session, ${m}_id: int, new_name: str) -> ${OptM}:
            ${m} = ${s}.query(${M}).filter(${M}.id == ${m}_id).one_or_none()
            if ${m} is None:
                return None
            try:
                ${m}.name = new_name
                ${s}.flush()
            except Exception:
                ${s}.rollback()
                raise
            ${s}.commit()
            return ${m}
        """,
        **_dao_values(ctx, model),
    )
    imports = [_session_import(), _model_import(model), *ctx.opt_imports()]
    return Piece(f"rename_{model.snake}", text, imports)


def _dao_search(ctx: DaoContext, model: ModelSpec) -> Piece:
    last = ctx.rng.choice(
        [
            "return list(${s}.execute(stmt).scalars().all())",
            "return list(${s}.scalars(stmt))",
        ]
    )
    text = _tpl(
        f"""
        def search_${{P}}(${{s}}: Session, term: str, limit: int = 25) -> list[${{M}}]:
            stmt = select(${{M}}).where(${{M}}.name.contains(term)).order_by(${{M}}.name)
            stmt = stmt.limit(limit)
            {last}
        """,
        **_dao_values(ctx, model),
    )
    imports = [_session_import(), _model_import(model), ("sqlalchemy", "select")]
    return Piece(f"search_{model.plural}", text, imports)


def _dao_for_parent(ctx: DaoContext, model: ModelSpec) -> Piece | None:
    parent = model.parent
    if parent is None:
        return None
    values = _dao_values(ctx, model) | {"pm": parent.snake, "PM": parent.name}
    text = _tpl(
        """
        def ${P}_for_${pm}(${s}: Session, ${pm}_id: int) -> list[${M}]:
            return (
                ${s}.query(${M})
                .join(${M}.${pm})
                .filter(${PM}.id == ${pm}_id)
                .order_by(${M}.created_at.desc())
                .all()
            )
        """,
        **values,
    )
    imports = [_session_import(), _model_import(model), _model_import(parent)]
    return Piece(f"{model.plural}_for_{parent.snake}", text, imports)


def _dao_total(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def total_${ifield}_of_${P}(${s}: Session) -> int:
            total = ${s}.query(func.coalesce(func.sum(${M}.${ifield}), 0)).scalar()
            return int(total or 0)
        """,
        **_dao_values(ctx, model),
    )
    imports = [_session_import(), _model_import(model), ("sqlalchemy", "func")]
    return Piece(f"total_{model.int_field}_of_{model.plural}", text, imports)


def _dao_page(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def page_${P}(${s}: Session, page: int = 1, per_page: int = 20) -> list[${M}]:
            query = ${s}.query(${M}).order_by(${M}.id)
            if page > 1:
                query = query.offset((page - 1) * per_page)
            return query.limit(per_page).all()
        """,
        **_dao_values(ctx, model),
    )
    return Piece(f"page_{model.plural}", text, [_session_import(), _model_import(model)])


def _dao_name_taken(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def ${m}_name_taken(${s}: Session, name: str) -> bool:
            return ${s}.query(${M}.id).filter(${M}.name == name).first() is not None
        """,
        **_dao_values(ctx, model),
    )
    return Piece(f"{model.snake}_name_taken", text, [_session_import(), _model_import(model)])


def _dao_summarize(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def summarize_${P}(minimum: int = 0) -> dict[str, int]:
            with SessionLocal() as session:
                total = count_${P}(session, minimum)
                flagged = len(list_${bfield}_${P}(session))
            return {"total": total, "${bfield}": flagged, "other": max(total - flagged, 0)}
        """,
        **_dao_values(ctx, model),
    )
    return Piece(
        f"summarize_{model.plural}",
        text,
        [(ctx.pkg.db_module, "SessionLocal")],
        deps=[("count", model), ("list_flagged", model)],
    )


def _dao_import_names(ctx: DaoContext, model: ModelSpec) -> Piece:
    param, kwarg = _parent_bits(model)
    text = _tpl(
        f"""
        def import_${{P}}(names: list[str]{param}) -> int:
            created = 0
            with SessionLocal() as session:
                for raw in names:
                    name = raw.strip()
                    if not name or find_${{m}}_by_name(session, name) is not None:
                        continue
                    session.add(${{M}}(name=name{kwarg}))
                    created += 1
                session.commit()
            return created
        """,
        **_dao_values(ctx, model),
    )
    return Piece(
        f"import_{model.plural}",
        text,
        [(ctx.pkg.db_module, "SessionLocal"), _model_import(model)],
        deps=[("find_by_name", model)],
    )


def _dao_archive(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def clear_stale_${P}(threshold: int = 0) -> int:
            with SessionLocal.begin() as session:
                stale = session.query(${M}).filter(${M}.${ifield} < threshold).all()
                for ${m} in stale:
                    ${m}.${bfield} = False
            return len(stale)
        """,
        **_dao_values(ctx, model),
    )
    imports = [(ctx.pkg.db_module, "SessionLocal"), _model_import(model)]
    return Piece(f"clear_stale_{model.plural}", text, imports)


def _dao_reset(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def reset_${ifield}_for_${P}(ids: list[int]) -> int:
            with session_scope() as session:
                rows = session.query(${M}).filter(${M}.id.in_(ids)).all()
                for row in rows:
                    row.${ifield} = 0
            return len(rows)
        """,
        **_dao_values(ctx, model),
    )
    imports = [(ctx.pkg.db_module, "session_scope"), _model_import(model)]
    return Piece(f"reset_{model.int_field}_for_{model.plural}", text, imports)


def _dao_get_db(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def get_db() -> Iterator[Session]:
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()
        """
    )
    imports = [
        (ctx.pkg.db_module, "SessionLocal"),
        _session_import(),
        ("collections.abc", "Iterator"),
    ]
    return Piece("get_db", text, imports)


def _dao_repository(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        class ${M}Repository:
            \"\"\"Thin repository over the ${M} table.\"\"\"

            def __init__(self, session: Session) -> None:
                self.session = session

            def get(self, ${m}_id: int) -> ${OptM}:
                return self.session.query(${M}).get(${m}_id)

            def list_recent(self, limit: int = 10) -> list[${M}]:
                query = self.session.query(${M}).order_by(${M}.created_at.desc())
                return query.limit(limit).all()

            def add(self, ${m}: ${M}) -> ${M}:
                self.session.add(${m})
                self.session.commit()
                return ${m}

            def count(self) -> int:
                return self.session.query(${M}).count()
        """,
        **_dao_values(ctx, model),
    )
    imports = [_session_import(), _model_import(model), *ctx.opt_imports()]
    return Piece(f"{model.name}Repository", text, imports)


def _dao_format(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        """
        def format_${m}(${m}: ${M}) -> str:
            label = ${m}.name.strip() or "<unnamed>"
            return f"{label} (#{${m}.id}, ${ifield}={${m}.${ifield}})"
        """,
        **_dao_values(ctx, model),
    )
    return Piece(f"format_{model.snake}", text, [_model_import(model)])


def _dao_report(ctx: DaoContext, model: ModelSpec) -> Piece:
    text = _tpl(
        r"""
        def ${bfield}_${m}_report(${s}: Session) -> str:
            rows = [format_${m}(item) for item in list_${bfield}_${P}(${s})]
            if not rows:
                return "no ${bfield} ${P}"
            return "\n".join(rows)
        """,
        **_dao_values(ctx, model),
    )
    return Piece(
        f"{model.bool_field}_{model.snake}_report",
        text,
        [_session_import()],
        deps=[("format", model), ("list_flagged", model)],
    )


DAO_TEMPLATES: dict[str, Callable[[DaoContext, ModelSpec], Piece | None]] = {
    "get": _dao_get,
    "count": _dao_count,
    "list_flagged": _dao_list_flagged,
    "find_by_name": _dao_find_by_name,
    "create": _dao_create,
    "adjust": _dao_adjust,
    "delete": _dao_delete,
    "children_summary": _dao_children_summary,
    "rename": _dao_rename,
    "search": _dao_search,
    "for_parent": _dao_for_parent,
    "total": _dao_total,
    "page": _dao_page,
    "name_taken": _dao_name_taken,
    "summarize": _dao_summarize,
    "import_names": _dao_import_names,
    "archive": _dao_archive,
    "reset": _dao_reset,
    "get_db": _dao_get_db,
    "repository": _dao_repository,
    "format": _dao_format,
    "report": _dao_report,
}

DAO_WEIGHTS: dict[str, int] = {
    "get": 4, "count": 3, "list_flagged": 4, "find_by_name": 3, "create": 4, "adjust": 3,
    "delete": 2, "children_summary": 3, "rename": 2, "search": 2, "for_parent": 3,
    "total": 2, "page": 2, "name_taken": 2, "summarize": 3, "import_names": 2,
    "archive": 2, "reset": 1, "get_db": 1, "repository": 1, "format": 1, "report": 2,
}  # fmt: skip


def _dao_proposal(
    ctx: DaoContext, builder: ModuleBuilder, kind: str, model: ModelSpec
) -> Proposal | None:
    piece = DAO_TEMPLATES[kind](ctx, model)
    if piece is None or piece.name in builder.names:
        return None
    proposal = Proposal()

    def ensure(dep_kind: str, dep_model: ModelSpec, depth: int) -> bool:
        dep = DAO_TEMPLATES[dep_kind](ctx, dep_model)
        if dep is None or depth > 3:
            return False
        known = builder.names | set(proposal.local_defs) | set(proposal.imported)
        if dep.name in known:
            return True
        if dep.name in ctx.pkg.registry:
            proposal.imports.append((f".{ctx.pkg.registry[dep.name]}", dep.name))
            proposal.imported.append(dep.name)
            return True
        if not all(ensure(k, m, depth + 1) for k, m in dep.deps):
            return False
        proposal.add_piece(dep)
        return True

    if not all(ensure(k, m, 0) for k, m in piece.deps):
        return None
    proposal.add_piece(piece)
    return proposal


def _dao_module(rng: random.Random, pkg: PackageSpec, module: str) -> ModuleBuilder:
    focus = rng.sample(pkg.models, rng.randint(1, min(2, len(pkg.models))))
    ctx = DaoContext(rng=rng, pkg=pkg, session="session" if rng.random() < 0.8 else "db")
    names = ", ".join(m.plural for m in focus)
    future = pkg.future or rng.random() < 0.3
    builder = ModuleBuilder(f"Data access for {pkg.name}: {names}.", future)
    kinds = list(DAO_WEIGHTS)
    weights = [DAO_WEIGHTS[k] for k in kinds]

    def propose() -> Proposal | None:
        kind = rng.choices(kinds, weights)[0]
        return _dao_proposal(ctx, builder, kind, rng.choice(focus))

    _fill(builder, rng.randint(MIN_LINES, MAX_LINES - 10), propose)
    for name in builder.local_defs:
        pkg.registry.setdefault(name, module)
    return builder


# --------------------------------------------------------------------------------------
# Plain (non-SQLAlchemy) modules
# --------------------------------------------------------------------------------------


def _plain_values(topic: str) -> dict[str, str]:
    return {"t": topic, "T": _camel(topic), "ts": _plural(topic)}


def _pl_slugify(topic: str) -> Piece:
    text = _tpl(
        r"""
        def slugify_${t}(text: str) -> str:
            lowered = text.strip().lower()
            cleaned = re.sub(r"[^a-z0-9]+", "-", lowered)
            return cleaned.strip("-") or "${t}"
        """,
        **_plain_values(topic),
    )
    return Piece(f"slugify_{topic}", text, plain_imports=["re"], str_funcs=[f"slugify_{topic}"])


def _pl_whitespace(topic: str) -> Piece:
    text = _tpl(
        """
        def normalize_${t}_whitespace(text: str) -> str:
            parts = text.split()
            return " ".join(part for part in parts if part)
        """,
        **_plain_values(topic),
    )
    name = f"normalize_{topic}_whitespace"
    return Piece(name, text, str_funcs=[name])


def _pl_truncate(topic: str) -> Piece:
    text = _tpl(
        """
        def truncate_${t}(text: str, width: int = 80, suffix: str = "...") -> str:
            if width <= len(suffix):
                raise ValueError("width must be larger than the suffix")
            if len(text) <= width:
                return text
            cut = text[: width - len(suffix)].rstrip()
            space = cut.rfind(" ")
            if space > width // 2:
                cut = cut[:space]
            return cut + suffix
        """,
        **_plain_values(topic),
    )
    return Piece(f"truncate_{topic}", text, str_funcs=[f"truncate_{topic}"])


def _pl_case(topic: str) -> Piece:
    text = _tpl(
        """
        def ${t}_to_snake(name: str) -> str:
            chars: list[str] = []
            for index, char in enumerate(name):
                if char.isupper() and index and not name[index - 1].isupper():
                    chars.append("_")
                chars.append(char.lower())
            return "".join(chars).replace("-", "_")


        def ${t}_to_camel(name: str) -> str:
            head, *rest = name.split("_")
            return head + "".join(word.capitalize() for word in rest)
        """,
        **_plain_values(topic),
    )
    return Piece(f"{topic}_to_snake", text, str_funcs=[f"{topic}_to_snake", f"{topic}_to_camel"])


def _pl_frequencies(topic: str) -> Piece:
    text = _tpl(
        r"""
        def ${t}_word_frequencies(text: str, top: int = 10) -> list[tuple[str, int]]:
            words = re.findall(r"[a-zA-Z']+", text.lower())
            counts = Counter(word for word in words if len(word) > 2)
            return counts.most_common(top)
        """,
        **_plain_values(topic),
    )
    piece = Piece(f"{topic}_word_frequencies", text, [("collections", "Counter")])
    piece.plain_imports.append("re")
    return piece


def _pl_chunked(topic: str) -> Piece:
    text = _tpl(
        """
        def chunk_${ts}(items: Iterable[str], size: int) -> Iterator[list[str]]:
            if size < 1:
                raise ValueError("size must be positive")
            batch: list[str] = []
            for item in items:
                batch.append(item)
                if len(batch) == size:
                    yield batch
                    batch = []
            if batch:
                yield batch
        """,
        **_plain_values(topic),
    )
    imports = [("collections.abc", "Iterable"), ("collections.abc", "Iterator")]
    return Piece(f"chunk_{_plural(topic)}", text, imports)


def _pl_stats(topic: str) -> Piece:
    text = _tpl(
        """
        def ${t}_moving_average(values: Sequence[float], window: int = 3) -> list[float]:
            if window <= 0:
                raise ValueError("window must be positive")
            averages: list[float] = []
            total = 0.0
            for index, value in enumerate(values):
                total += value
                if index >= window:
                    total -= values[index - window]
                averages.append(total / min(index + 1, window))
            return averages


        def ${t}_percentile(values: Sequence[float], q: float) -> float:
            if not values:
                return 0.0
            ordered = sorted(values)
            position = (len(ordered) - 1) * max(0.0, min(q, 1.0))
            low = math.floor(position)
            high = math.ceil(position)
            weight = position - low
            return ordered[low] * (1 - weight) + ordered[high] * weight
        """,
        **_plain_values(topic),
    )
    piece = Piece(f"{topic}_moving_average", text, [("collections.abc", "Sequence")])
    piece.plain_imports.append("math")
    return piece


def _pl_dataclass(topic: str) -> Piece:
    text = _tpl(
        """
        @dataclass
        class ${T}Config:
            name: str
            retries: int = 3
            timeout: float = 5.0
            tags: list[str] = field(default_factory=list)
            options: dict[str, str] = field(default_factory=dict)

            def with_tag(self, tag: str) -> ${T}Config:
                return replace(self, tags=[*self.tags, tag])

            def option(self, key: str, default: str = "") -> str:
                return self.options.get(key, default)

            def validate(self) -> None:
                if self.retries < 0:
                    raise ValueError("retries must be >= 0")
                if self.timeout <= 0:
                    raise ValueError("timeout must be positive")
        """,
        **_plain_values(topic),
    )
    imports = [("dataclasses", "dataclass"), ("dataclasses", "field"), ("dataclasses", "replace")]
    return Piece(f"{_camel(topic)}Config", text, imports, needs_future=True)


def _pl_enum(topic: str) -> Piece:
    text = _tpl(
        """
        class ${T}Status(Enum):
            PENDING = "pending"
            ACTIVE = "active"
            DONE = "done"
            FAILED = "failed"

            @classmethod
            def from_label(cls, label: str) -> ${T}Status:
                normalized = label.strip().lower()
                for member in cls:
                    if member.value == normalized:
                        return member
                raise ValueError(f"unknown ${t} status: {label!r}")

            @property
            def is_terminal(self) -> bool:
                return self in (${T}Status.DONE, ${T}Status.FAILED)
        """,
        **_plain_values(topic),
    )
    return Piece(f"{_camel(topic)}Status", text, [("enum", "Enum")], needs_future=True)


def _pl_cache(topic: str) -> Piece:
    text = _tpl(
        """
        class ${T}Cache:
            \"\"\"Small LRU cache for rendered ${ts}.\"\"\"

            def __init__(self, capacity: int = 128) -> None:
                self.capacity = capacity
                self._data: OrderedDict[str, str] = OrderedDict()

            def get(self, key: str, default: str | None = None) -> str | None:
                if key not in self._data:
                    return default
                self._data.move_to_end(key)
                return self._data[key]

            def put(self, key: str, value: str) -> None:
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.capacity:
                    self._data.popitem(last=False)

            def __len__(self) -> int:
                return len(self._data)
        """,
        **_plain_values(topic),
    )
    return Piece(f"{_camel(topic)}Cache", text, [("collections", "OrderedDict")])


def _pl_collection(topic: str) -> Piece:
    # Deliberately looks like a query builder (filter/order_by/all/first/count).
    text = _tpl(
        """
        class ${T}Collection:
            \"\"\"In-memory ${ts} with a tiny query-builder interface.\"\"\"

            def __init__(self, items: list[dict[str, str]] | None = None) -> None:
                self._items = list(items or [])
                self._filters: list[Callable[[dict[str, str]], bool]] = []
                self._order: str | None = None

            def add(self, item: dict[str, str]) -> None:
                self._items.append(item)

            def filter(self, predicate: Callable[[dict[str, str]], bool]) -> ${T}Collection:
                clone = ${T}Collection(self._items)
                clone._filters = [*self._filters, predicate]
                clone._order = self._order
                return clone

            def order_by(self, key: str) -> ${T}Collection:
                clone = self.filter(lambda _item: True)
                clone._order = key
                return clone

            def all(self) -> list[dict[str, str]]:
                rows = [row for row in self._items if all(f(row) for f in self._filters)]
                if self._order is not None:
                    rows.sort(key=lambda row: row.get(self._order or "", ""))
                return rows

            def first(self) -> dict[str, str] | None:
                rows = self.all()
                return rows[0] if rows else None

            def count(self) -> int:
                return len(self.all())
        """,
        **_plain_values(topic),
    )
    imports = [("collections.abc", "Callable")]
    return Piece(f"{_camel(topic)}Collection", text, imports, needs_future=True)


def _pl_buffer(topic: str) -> Piece:
    # A parameter called ``session`` with add()/commit() that is not SQLAlchemy.
    text = _tpl(
        """
        class ${T}Buffer:
            \"\"\"Collects pending ${ts} and flushes them to a sink in batches.\"\"\"

            def __init__(self, sink: Callable[[list[str]], None], batch_size: int = 100) -> None:
                self._sink = sink
                self._pending: list[str] = []
                self.batch_size = batch_size
                self.committed = 0

            def add(self, record: str) -> None:
                self._pending.append(record)
                if len(self._pending) >= self.batch_size:
                    self.commit()

            def commit(self) -> None:
                if self._pending:
                    self._sink(list(self._pending))
                    self.committed += len(self._pending)
                    self._pending.clear()

            def rollback(self) -> None:
                self._pending.clear()


        def write_${ts}(records: list[str], session: ${T}Buffer) -> int:
            for record in records:
                session.add(record)
            session.commit()
            return session.committed
        """,
        **_plain_values(topic),
    )
    return Piece(f"{_camel(topic)}Buffer", text, [("collections.abc", "Callable")])


def _pl_parse(topic: str) -> Piece:
    text = _tpl(
        """
        def parse_${t}_line(line: str, separator: str = ";") -> dict[str, str]:
            result: dict[str, str] = {}
            for chunk in line.split(separator):
                if "=" not in chunk:
                    continue
                key, _, value = chunk.partition("=")
                key = key.strip().lower()
                if key:
                    result[key] = value.strip()
            return result
        """,
        **_plain_values(topic),
    )
    return Piece(f"parse_{topic}_line", text)


def _pl_settings(topic: str) -> Piece:
    text = _tpl(
        """
        def load_${t}_settings(path: Path, defaults: dict[str, object] | None = None) -> dict:
            settings: dict[str, object] = dict(defaults or {})
            if not path.exists():
                return settings
            with path.open(encoding="utf-8") as handle:
                data = json.load(handle)
            if not isinstance(data, dict):
                raise TypeError(f"{path} must contain a JSON object")
            settings.update(data)
            return settings
        """,
        **_plain_values(topic),
    )
    piece = Piece(f"load_{topic}_settings", text, [("pathlib", "Path")])
    piece.plain_imports.append("json")
    return piece


def _pl_retry(topic: str) -> Piece:
    text = _tpl(
        """
        def call_with_${t}_retries(
            func: Callable[[], str], attempts: int = 3, delay: float = 0.0
        ) -> str:
            last_error: Exception | None = None
            for attempt in range(1, attempts + 1):
                try:
                    return func()
                except (OSError, ValueError) as exc:
                    last_error = exc
                    time.sleep(delay * attempt)
            raise RuntimeError(f"${t} failed after {attempts} attempts") from last_error
        """,
        **_plain_values(topic),
    )
    piece = Piece(f"call_with_{topic}_retries", text, [("collections.abc", "Callable")])
    piece.plain_imports.append("time")
    return piece


def _pl_duration(topic: str) -> Piece:
    text = _tpl(
        """
        def format_${t}_duration(seconds: float) -> str:
            delta = timedelta(seconds=max(seconds, 0))
            hours, remainder = divmod(int(delta.total_seconds()), 3600)
            minutes, secs = divmod(remainder, 60)
            if hours:
                return f"{hours}h{minutes:02d}m"
            if minutes:
                return f"{minutes}m{secs:02d}s"
            return f"{secs}s"
        """,
        **_plain_values(topic),
    )
    return Piece(f"format_{topic}_duration", text, [("datetime", "timedelta")])


def _pl_email(topic: str) -> Piece:
    text = _tpl(
        r"""
        ${T}_EMAIL_RE = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$$")


        def is_valid_${t}_email(value: str) -> bool:
            return bool(${T}_EMAIL_RE.match(value.strip()))


        def mask_${t}_email(value: str) -> str:
            user, _, domain = value.partition("@")
            if not domain:
                return value
            return f"{user[:1]}***@{domain}"
        """,
        **(_plain_values(topic) | {"T": topic.upper()}),
    )
    piece = Piece(f"is_valid_{topic}_email", text, str_funcs=[f"mask_{topic}_email"])
    piece.plain_imports.append("re")
    return piece


def _pl_group(topic: str) -> Piece:
    text = _tpl(
        """
        def group_${ts}_by(
            items: Iterable[dict[str, str]], key: str
        ) -> dict[str, list[dict[str, str]]]:
            groups: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
            for item in items:
                groups[item.get(key, "")].append(item)
            return dict(groups)
        """,
        **_plain_values(topic),
    )
    imports = [("collections", "defaultdict"), ("collections.abc", "Iterable")]
    return Piece(f"group_{_plural(topic)}_by", text, imports)


def _pl_merge(topic: str) -> Piece:
    text = _tpl(
        """
        def merge_${t}_dicts(base: dict[str, object], extra: dict[str, object]) -> dict:
            merged: dict[str, object] = dict(base)
            for key, value in extra.items():
                current = merged.get(key)
                if isinstance(current, dict) and isinstance(value, dict):
                    merged[key] = merge_${t}_dicts(current, value)
                else:
                    merged[key] = value
            return merged
        """,
        **_plain_values(topic),
    )
    return Piece(f"merge_{topic}_dicts", text)


def _pl_dedupe(topic: str) -> Piece:
    text = _tpl(
        """
        def dedupe_${ts}(items: Iterable[str], *, case_sensitive: bool = False) -> list[str]:
            seen: set[str] = set()
            result: list[str] = []
            for item in items:
                key = item if case_sensitive else item.casefold()
                if key in seen:
                    continue
                seen.add(key)
                result.append(item)
            return result
        """,
        **_plain_values(topic),
    )
    return Piece(f"dedupe_{_plural(topic)}", text, [("collections.abc", "Iterable")])


def _pl_constants(topic: str) -> Piece:
    text = _tpl(
        """
        DEFAULT_${T}_LIMIT = 50
        MAX_${T}_LENGTH = 255
        ${T}_SEPARATORS = (",", ";", "|")
        """,
        T=topic.upper(),
    )
    return Piece(f"DEFAULT_{topic.upper()}_LIMIT", text)


PLAIN_TEMPLATES: dict[str, Callable[[str], Piece]] = {
    "slugify": _pl_slugify,
    "whitespace": _pl_whitespace,
    "truncate": _pl_truncate,
    "case": _pl_case,
    "frequencies": _pl_frequencies,
    "chunked": _pl_chunked,
    "stats": _pl_stats,
    "dataclass": _pl_dataclass,
    "enum": _pl_enum,
    "cache": _pl_cache,
    "collection": _pl_collection,
    "buffer": _pl_buffer,
    "parse": _pl_parse,
    "settings": _pl_settings,
    "retry": _pl_retry,
    "duration": _pl_duration,
    "email": _pl_email,
    "group": _pl_group,
    "merge": _pl_merge,
    "dedupe": _pl_dedupe,
    "constants": _pl_constants,
}


def _plain_pipeline(
    rng: random.Random, builder: ModuleBuilder, pkg: PackageSpec, topic: str
) -> Proposal | None:
    """A function chaining two str -> str helpers (maybe imported from a sibling)."""
    local = list(builder.str_funcs)
    known = builder.names | set(local)
    imported = [name for name in pkg.text_registry if name not in known]
    pool = local + (rng.sample(imported, min(len(imported), 2)) if imported else [])
    if len(pool) < 2:
        return None
    first, second = rng.sample(pool, 2)
    name = f"prepare_{topic}_{len(builder.local_defs)}"
    proposal = Proposal()
    for func in (first, second):
        if func not in known:
            proposal.imports.append((f".{pkg.text_registry[func]}", func))
            proposal.imported.append(func)
    proposal.blocks.append(
        _tpl(
            """
            def ${name}(text: str) -> str:
                cleaned = ${first}(text)
                return ${second}(cleaned)
            """,
            name=name,
            first=first,
            second=second,
        )
    )
    proposal.local_defs.append(name)
    return proposal


def _plain_module(rng: random.Random, pkg: PackageSpec, module: str) -> ModuleBuilder:
    topic = rng.choice(TOPIC_WORDS)
    builder = ModuleBuilder(f"{_camel(module)} helpers for {_plural(topic)}.", rng.random() < 0.4)
    kinds = list(PLAIN_TEMPLATES)

    def propose() -> Proposal | None:
        if builder.str_funcs and rng.random() < 0.15:
            return _plain_pipeline(rng, builder, pkg, topic)
        kind = rng.choice(kinds)
        if kind in builder.kinds:
            return None
        piece = PLAIN_TEMPLATES[kind](topic)
        if builder.names.intersection([piece.name, *piece.str_funcs]):
            return None
        proposal = Proposal()
        proposal.add_piece(piece)
        builder.kinds.add(kind)
        return proposal

    _fill(builder, rng.randint(MIN_LINES, MAX_LINES - 10), propose)
    for name in builder.str_funcs:
        pkg.text_registry.setdefault(name, module)
    return builder


# --------------------------------------------------------------------------------------
# Whole tree
# --------------------------------------------------------------------------------------


def _split_evenly(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _allocate_sqla(rng: random.Random, sizes: list[int], total: int) -> list[int]:
    """Spread ``total`` SQLAlchemy modules unevenly (but capped) over the packages."""
    weights = [size * rng.uniform(0.2, 1.8) for size in sizes]
    scale = total / (sum(weights) or 1.0)
    ideal = [w * scale for w in weights]
    alloc = [0] * len(sizes)
    for _ in range(min(total, sum(sizes))):
        best = max(
            (i for i in range(len(sizes)) if alloc[i] < sizes[i]),
            key=lambda i: (ideal[i] - alloc[i], -i),
        )
        alloc[best] += 1
    return alloc


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _prepare_out_dir(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise SystemExit(f"error: --out {out} exists and is not a directory")
        if any(out.iterdir()):
            if not (out / MARKER_FILE).exists():
                raise SystemExit(
                    f"error: --out {out} is not empty and was not made by this benchmark"
                )
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def generate_project(
    out: Path, modules: int = 2000, sqla_fraction: float = 0.33, seed: int = 0, packages: int = 40
) -> TreeInfo:
    """Write the synthetic project under ``out`` (its package root is ``out/synthapp``)."""
    start = time.perf_counter()
    rng = random.Random(seed)
    _prepare_out_dir(out)
    root = out / ROOT_PACKAGE

    n_sqla = round(modules * sqla_fraction)
    in_packages = modules - (1 if n_sqla else 0)  # database.py lives in the root package
    n_packages = max(1, min(packages, in_packages))
    sizes = _split_evenly(in_packages, n_packages)
    rng.shuffle(sizes)
    sqla_alloc = _allocate_sqla(rng, sizes, max(0, n_sqla - 1))

    files: dict[Path, str] = {
        out / MARKER_FILE: "Synthetic project generated by benchmarks/run_benchmark.py.\n",
        root / "__init__.py": '"""Synthetic application used to benchmark sqla-asyncify."""\n',
    }
    if n_sqla:
        files[root / "database.py"] = DATABASE_MODULE

    pkg_names = _unique_names(rng, PACKAGE_WORDS, n_packages)
    for pkg_name, size, sqla_count in zip(pkg_names, sizes, sqla_alloc, strict=True):
        pkg = PackageSpec(
            name=pkg_name,
            n_modules=size,
            n_sqla=sqla_count,
            optional_style=rng.random() < 0.35,
            future=rng.random() < 0.5,
            absolute_db_import=rng.random() < 0.5,
        )
        pkg_dir = root / pkg_name
        init = f'"""The {pkg_name} package."""\n'
        if sqla_count:
            _make_models(rng, pkg)
            files[pkg_dir / "models.py"] = _models_module(pkg)
            exported = ["Base"] + [m.name for m in pkg.models]
            imported = ", ".join(sorted(exported))
            init += f"\nfrom .models import {imported}\n\n__all__ = {exported!r}\n"
            init = init.replace("'", '"')
        files[pkg_dir / "__init__.py"] = init

        dao_names = _unique_names(rng, DAO_MODULE_WORDS, max(0, sqla_count - 1))
        plain_names = _unique_names(rng, PLAIN_MODULE_WORDS, size - sqla_count)
        # Interleave plain and data-access modules so imports go both ways in "file order".
        order = ["dao"] * len(dao_names) + ["plain"] * len(plain_names)
        rng.shuffle(order)
        dao_iter, plain_iter = iter(dao_names), iter(plain_names)
        for kind in order:
            if kind == "dao":
                module = next(dao_iter)
                builder = _dao_module(rng, pkg, module)
            else:
                module = next(plain_iter)
                builder = _plain_module(rng, pkg, module)
            files[pkg_dir / f"{module}.py"] = builder.render()

    total_lines = total_bytes = 0
    for path, text in files.items():
        _write(path, text)
        if path.suffix == ".py":
            total_lines += text.count("\n")
            total_bytes += len(text.encode("utf-8"))
    py_files = sum(1 for p in files if p.suffix == ".py")
    return TreeInfo(
        root=out,
        py_files=py_files,
        modules=modules,
        sqla_modules=n_sqla,
        packages=n_packages,
        lines=total_lines,
        bytes=total_bytes,
        seconds=time.perf_counter() - start,
        seed=seed,
    )


# --------------------------------------------------------------------------------------
# Timing the CLI
# --------------------------------------------------------------------------------------

PAGE_KIB = (os.sysconf("SC_PAGE_SIZE") // 1024) if hasattr(os, "sysconf") else 4
HAS_PROC = Path("/proc/self/statm").exists()


def _maxrss_mib(value: int) -> float:
    """``ru_maxrss`` is KiB on Linux and bytes on macOS."""
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _tree_rss_kib(root_pid: int) -> int:
    children = _proc_children()
    total, stack, seen = 0, [root_pid], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * PAGE_KIB
        except (OSError, ValueError, IndexError):
            continue
        stack.extend(children.get(pid, []))
    return total


class TreeRssSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants (Linux /proc only)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(self.pid))
            self._done.wait(self.interval)

    def finish(self) -> int | None:
        self._done.set()
        self.join()
        return self.peak_kib or None


@dataclass
class RunSample:
    wall_s: float
    max_rss_mib: float
    tree_rss_mib: float | None
    exit_code: int
    stdout_bytes: int
    stdout_is_json: bool
    json_keys: list[str] | None = None
    # user + system CPU seconds of the child and the workers it waited for (`wait4`): steadier
    # than the wall time on a machine others share
    cpu_s: float | None = None


class ToolError(Exception):
    def __init__(self, message: str, stderr_tail: str) -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


def _complete_report(stdout: bytes) -> bool:
    """A whole JSON report: exit code 2 then says some files failed (a real tree holds files
    that do not parse), not that the run did."""
    try:
        json.loads(stdout)
    except ValueError:
        return False
    return True


def _tail(data: bytes, lines: int = 40) -> str:
    text = data.decode("utf-8", errors="replace").rstrip()
    return "\n".join(text.splitlines()[-lines:])


def _child_env(repo: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH", "")]))
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})
    return env


def run_tool_once(cmd: list[str], repo: Path, timeout: float) -> RunSample:
    """Run ``cmd`` once; wall time plus this child's own max RSS (via ``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=repo, env=_child_env(repo), stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        sampler = TreeRssSampler(proc.pid) if HAS_PROC else None
        if sampler is not None:
            sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        sampled_kib = sampler.finish() if sampler is not None else None
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
        err.seek(0)
        stderr = err.read()

    code = proc.returncode
    if code not in (0, 1) and not (code == 2 and _complete_report(stdout)):
        raise ToolError(f"tool exited with code {code}: {' '.join(cmd)}", _tail(stderr))
    if b"Traceback (most recent call last)" in stderr:
        raise ToolError(f"tool crashed (exit {code}): {' '.join(cmd)}", _tail(stderr))
    json_ok, keys = False, None
    try:
        parsed = json.loads(stdout)
        json_ok = True
        keys = sorted(parsed)[:20] if isinstance(parsed, dict) else None
    except ValueError:
        pass
    max_rss_mib = _maxrss_mib(usage.ru_maxrss)
    return RunSample(
        wall_s=wall,
        max_rss_mib=max_rss_mib,
        # The tree's peak is at least its largest member's peak; sampling can miss spikes.
        tree_rss_mib=max(sampled_kib / 1024, max_rss_mib) if sampled_kib else None,
        exit_code=code,
        stdout_bytes=len(stdout),
        stdout_is_json=json_ok,
        json_keys=keys,
        cpu_s=usage.ru_utime + usage.ru_stime,
    )


def probe_cli(repo: Path) -> str:
    """Return ``migrate --help`` output; raise ToolError if the CLI is not runnable."""
    cmd = [sys.executable, "-m", "cli", "migrate", "--help"]
    try:
        proc = subprocess.run(
            cmd, cwd=repo, env=_child_env(repo), capture_output=True, timeout=300, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"`{' '.join(cmd[1:])}` timed out", _tail(exc.stderr or b"")) from exc
    if proc.returncode != 0:
        raise ToolError(
            f"`{' '.join(cmd[1:])}` exited with code {proc.returncode}", _tail(proc.stderr)
        )
    return (proc.stdout + proc.stderr).decode("utf-8", errors="replace")


def tree_fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _stats(times: list[float], py_files: int) -> dict[str, float]:
    median = statistics.median(times)
    return {
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "files_per_s": py_files / median if median > 0 else float("inf"),
    }


def variant_report(
    name: str, cmd: list[str], py_files: int, runs: list[RunSample], warm: list[RunSample]
) -> dict[str, Any]:
    trees = [r.tree_rss_mib for r in runs if r.tree_rss_mib is not None]
    return {
        "name": name,
        "cmd": cmd,
        **_stats([r.wall_s for r in runs], py_files),
        "median_cpu_s": statistics.median(r.cpu_s for r in runs if r.cpu_s is not None)
        if all(r.cpu_s is not None for r in runs) else None,
        "peak_rss_mib": max(r.max_rss_mib for r in runs),
        "peak_tree_rss_mib": max(trees) if trees else None,
        "exit_codes": sorted({r.exit_code for r in runs}),
        "stdout_is_json": all(r.stdout_is_json for r in runs),
        "json_keys": runs[0].json_keys,
        "stdout_bytes": runs[0].stdout_bytes,
        "warmup_s": [r.wall_s for r in warm],
        "runs": [r.__dict__ for r in runs],
    }


def time_rounds(
    variants: list[tuple[str, list[str], Path]],
    py_files: int,
    repeat: int,
    warmup: int,
    timeout: float,
    between: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Every variant once per round, alternating (so they share the machine's load of the
    same minutes), then `between()` (the parser baselines); the warm-ups first."""
    warm: dict[str, list[RunSample]] = {name: [] for name, _, _ in variants}
    runs: dict[str, list[RunSample]] = {name: [] for name, _, _ in variants}
    for _ in range(warmup):
        for name, cmd, repo in variants:
            warm[name].append(run_tool_once(cmd, repo, timeout))
    for i in range(repeat):
        for name, cmd, repo in variants:
            sample = run_tool_once(cmd, repo, timeout)
            runs[name].append(sample)
            print(f"  {name}: round {i + 1}/{repeat} {sample.wall_s:.3f}s", file=sys.stderr)
        if between is not None:
            between()
    return [variant_report(name, cmd, py_files, runs[name], warm[name])
            for name, cmd, _ in variants]


# --------------------------------------------------------------------------------------
# In-process parser baselines
# --------------------------------------------------------------------------------------


class Baseline:
    """The in-process parser floors over the tree's files, one round at a time (so that they
    can alternate with the tool's runs). Files a parser refuses (Python 2 code in a real
    tree) are left out of its timing and counted."""

    def __init__(self, root: Path) -> None:
        paths = sorted(p for p in root.rglob("*.py") if p.is_file())
        self.sources = [p.read_bytes().decode("utf-8", "replace") for p in paths]
        self.times: dict[str, list[float]] = {"ast_parse": [], "libcst_parse_module": []}
        self.refused: dict[str, int] = {}
        self.cpu: dict[str, list[float]] = {}
        try:
            import libcst
        except ImportError:
            print("warning: libcst is not installed; skipping its baseline", file=sys.stderr)
            self.libcst = None
        else:
            self.libcst = libcst

    def _timed(self, key: str, parse: Callable[[str], object]) -> None:
        refused = 0
        start, cpu = time.perf_counter(), time.process_time()
        for source in self.sources:
            try:
                parse(source)
            except Exception:  # noqa: BLE001 - a file this parser refuses
                refused += 1
        self.times[key].append(time.perf_counter() - start)
        self.cpu.setdefault(key, []).append(time.process_time() - cpu)
        self.refused[key] = refused

    def round(self) -> None:
        self._timed("ast_parse", ast.parse)
        if self.libcst is not None:
            self._timed("libcst_parse_module", self.libcst.parse_module)
        print(f"  libcst.parse_module floor: {self.times['libcst_parse_module'][-1]:.3f}s"
              if self.libcst is not None else "", file=sys.stderr)

    def report(self) -> dict[str, Any]:
        result: dict[str, Any] = {"files": len(self.sources)}
        times = self.times["ast_parse"]
        result["ast_parse"] = {**_stats(times, len(self.sources)), "times_s": times,
                               "refused": self.refused.get("ast_parse", 0)}
        if self.libcst is None:
            result["libcst_parse_module"] = None
            return result
        from importlib.metadata import version

        times = self.times["libcst_parse_module"]
        result["libcst_parse_module"] = {
            **_stats(times, len(self.sources)),
            "times_s": times,
            "median_cpu_s": statistics.median(self.cpu["libcst_parse_module"]),
            "refused": self.refused.get("libcst_parse_module", 0),
            "libcst_version": version("libcst"),
            "parser": os.environ.get("LIBCST_PARSER_TYPE", "native (default)"),
        }
        return result


def run_baseline(root: Path, repeat: int) -> dict[str, Any]:
    baseline = Baseline(root)
    for _ in range(repeat):
        baseline.round()
    return baseline.report()


def add_ratios(report: dict[str, Any]) -> None:
    """Each variant's median as a multiple of the libcst parse floor's median (the bar: a
    dry run faster than libcst can merely parse the tree, the goal ≤ 0.5×)."""
    floor = (report.get("baseline") or {}).get("libcst_parse_module")
    for variant in report["variants"]:
        variant["ratio_to_libcst_parse"] = (
            variant["median_s"] / floor["median_s"] if floor and floor["median_s"] else None)
        cpu = floor.get("median_cpu_s") if floor else None
        variant["cpu_ratio_to_libcst_parse"] = (
            variant["median_cpu_s"] / cpu if cpu and variant.get("median_cpu_s") else None)


def tree_info(root: Path) -> TreeInfo:
    """The figures of an existing tree (`--tree`): what the generator reports for its own."""
    files = [p for p in root.rglob("*.py") if p.is_file()]
    lines = size = sqla = 0
    for path in files:
        data = path.read_bytes()
        size += len(data)
        lines += data.count(b"\n")
        sqla += b"sqlalchemy" in data
    return TreeInfo(root, len(files), len(files), sqla, 0, lines, size, 0.0, 0)


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def _parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(
        description="Benchmark `python -m cli migrate` on a generated synthetic project.",
        epilog="Arguments after `--` are passed through to `cli migrate`.",
    )
    parser.add_argument("--modules", type=int, default=2000, help="modules to generate")
    parser.add_argument("--packages", type=int, default=40, help="packages to spread them over")
    parser.add_argument("--sqla-fraction", type=float, default=0.33, help="share using SQLAlchemy")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument("--out", type=Path, help="generate here and keep it (default: temp dir)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before each variant")
    parser.add_argument(
        "--workers", default="", help="comma list of N: also time `--jobs N` (if supported)"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per tool run")
    parser.add_argument("--baseline", action="store_true", help="also time ast and libcst parse")
    parser.add_argument("--no-tool", action="store_true", help="skip timing the CLI")
    parser.add_argument("--generate-only", action="store_true", help="generate, then exit")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="checkout holding cli/")
    parser.add_argument(
        "--compare-repo", type=Path, help="another checkout: its tool too, alternating"
    )
    parser.add_argument(
        "--tree", type=Path, help="time an existing tree (e.g. a real project) instead"
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    if args.modules < 1:
        parser.error("--modules must be >= 1")
    if not 0.0 <= args.sqla_fraction <= 1.0:
        parser.error("--sqla-fraction must be within [0, 1]")
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")
    try:
        args.workers = [int(w) for w in args.workers.split(",") if w.strip()]
    except ValueError:
        parser.error("--workers takes a comma-separated list of integers")
    if args.generate_only and args.out is None:
        parser.error("--generate-only needs --out")
    if not args.repo.is_dir():
        parser.error(f"--repo {args.repo} is not a directory")
    if args.compare_repo is not None and not args.compare_repo.is_dir():
        parser.error(f"--compare-repo {args.compare_repo} is not a directory")
    if args.tree is not None and not args.tree.is_dir():
        parser.error(f"--tree {args.tree} is not a directory")
    return args, extra


def _fmt(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _print_table(report: dict[str, Any]) -> None:
    tree = report["tree"]
    if tree.get("given"):
        print(f"tree: {tree['path']}: {tree['py_files']} .py files ({tree['sqla_modules']} "
              f"naming sqlalchemy, {tree['lines']} lines, {tree['bytes'] / 1e6:.1f} MB)")
    else:
        print(
            f"tree: {tree['py_files']} .py files ({tree['modules']} modules, "
            f"{tree['sqla_modules']} using SQLAlchemy, {tree['packages']} packages, "
            f"{tree['lines']} lines) generated in {tree['generation_s']:.2f}s"
        )
    header = f"{'variant':<28}{'files':>7}{'files/s':>10}{'median s':>10}{'min s':>9}"
    header += f"{'peak RSS MiB':>14}{'tree RSS MiB':>14}{'x libcst parse':>16}{'(cpu)':>7}"
    rows: list[str] = []
    for v in report["variants"]:
        rows.append(
            f"{v['name']:<28}{tree['py_files']:>7}{v['files_per_s']:>10.1f}"
            f"{v['median_s']:>10.3f}{v['min_s']:>9.3f}"
            f"{v['peak_rss_mib']:>14.1f}{_fmt(v['peak_tree_rss_mib'], '.1f'):>14}"
            f"{_fmt(v.get('ratio_to_libcst_parse'), '.2f'):>16}"
            f"{_fmt(v.get('cpu_ratio_to_libcst_parse'), '.2f'):>7}"
        )
    baseline = report.get("baseline")
    if baseline:
        for key, label in (("ast_parse", "ast.parse"), ("libcst_parse_module", "libcst.parse")):
            b = baseline.get(key)
            if b:
                rows.append(
                    f"{label + ' (in-process)':<28}{baseline['files']:>7}"
                    f"{b['files_per_s']:>10.1f}{b['median_s']:>10.3f}{b['min_s']:>9.3f}"
                    f"{'-':>14}{'-':>14}{'1.00' if key != 'ast_parse' else '-':>16}{'':>7}"
                )
    if rows:
        print()
        print(header)
        print("-" * len(header))
        print("\n".join(rows))
    for note in report["notes"]:
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> int:
    args, extra = _parse_args(list(sys.argv[1:] if argv is None else argv))
    log = sys.stderr
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.out is None:
        tmp = tempfile.TemporaryDirectory(prefix="sqla-asyncify-bench-")
        out = Path(tmp.name) / "project"
    else:
        out = args.out.resolve()
    notes: list[str] = []
    variants_out: list[dict[str, Any]] = []
    report: dict[str, Any] = {}
    try:
        if args.tree is not None:
            out = args.tree.resolve()
            tree = tree_info(out)
        else:
            print(f"generating {args.modules} modules into {out} ...", file=log)
            tree = generate_project(out, args.modules, args.sqla_fraction, args.seed,
                                    args.packages)
            print(f"generated {tree.py_files} .py files in {tree.seconds:.2f}s", file=log)
        report = {
            "tree": {
                "given": args.tree is not None,
                "path": str(out) if args.out or args.tree else None,
                "py_files": tree.py_files,
                "modules": tree.modules,
                "sqla_modules": tree.sqla_modules,
                "packages": tree.packages,
                "lines": tree.lines,
                "bytes": tree.bytes,
                "seed": tree.seed,
                "generation_s": tree.seconds,
            },
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "repeat": args.repeat,
            "warmup": args.warmup,
            "variants": variants_out,
            "notes": notes,
        }
        if args.generate_only:
            print(out)
            return 0
        if not args.no_tool:
            repo = args.repo.resolve()
            help_text = probe_cli(repo)
            base_cmd = [sys.executable, "-m", "cli", "migrate", str(out), "--format", "json"]
            variants = [("default", base_cmd + extra)]
            if args.workers and "--jobs" in help_text:
                for n in args.workers:
                    variants.append((f"--jobs {n}", [*base_cmd, "--jobs", str(n), *extra]))
            elif args.workers:
                notes.append("--workers ignored: `cli migrate --help` lists no --jobs option")
            runs = [(name, cmd, repo) for name, cmd in variants]
            if args.compare_repo is not None:
                other = args.compare_repo.resolve()
                probe_cli(other)
                runs += [(f"{name} @ {other.name}", cmd, other) for name, cmd in variants]
            baseline = Baseline(out) if args.baseline else None
            before = tree_fingerprint(out)
            for name, cmd, where in runs:
                print(f"timing {name}: {' '.join(cmd)} (in {where})", file=log)
            # the variants alternate round by round, the parser floor timed between rounds
            variants_out.extend(time_rounds(
                runs, tree.py_files, args.repeat, args.warmup, args.timeout,
                baseline.round if baseline else None))
            for variant in variants_out:
                if not variant["stdout_is_json"]:
                    notes.append(f"{variant['name']}: stdout was not valid JSON")
            if tree_fingerprint(out) != before:
                notes.append("the tree changed during the runs: the 'dry run' wrote files")
                report["tree_modified"] = True
            if baseline is not None:
                report["baseline"] = baseline.report()
        elif args.baseline:
            print("timing in-process ast.parse / libcst.parse_module ...", file=log)
            report["baseline"] = run_baseline(out, args.repeat)
        add_ratios(report)
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.stderr_tail:
            print("---- stderr (tail) ----", file=sys.stderr)
            print(exc.stderr_tail, file=sys.stderr)
        return 2
    finally:
        if tmp is not None:
            tmp.cleanup()
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        _print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
