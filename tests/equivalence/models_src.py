"""Source text of the models, seed data and helpers shared by every generated program.

Everything here is *text*: it is pasted verbatim at the top of the generated legacy program,
which is then migrated as a whole by ``codemods.migrate_source``. It is written in plain
SQLAlchemy-2.x-compatible sync style (``Session``, ``create_engine``), the way an application
about to be migrated would look; only ``session.query(...)`` in the case bodies is legacy.

Helpers that must work unchanged before *and* after migration avoid anything the tool
rewrites: SQL capture is registered on the ``Engine`` class (fires for the ``sync_engine`` of
an ``AsyncEngine`` too), the reset uses 2.0-style ``delete()`` through ``session.execute``
(the tool only adds ``await``), and ``norm()`` never triggers IO: it reads ``__dict__`` and
``inspect(obj)`` state only.
"""

MODELS_SRC = '''\
import json
from typing import Optional

from sqlalchemy import (Column, ForeignKey, JSON, String, Table, bindparam, create_engine, delete,
                        event, func, or_)
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.engine import Row
from sqlalchemy.engine import base as engine_base
from sqlalchemy.orm import (DeclarativeBase, Mapped, Session, aliased, contains_eager,
                            joinedload, lazyload, mapped_column, relationship, selectinload)
from sqlalchemy import inspect as sa_inspect


class Base(DeclarativeBase):
    pass


user_tags = Table(
    "user_tags",
    Base.metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    prefs: Mapped[Optional[dict]] = mapped_column(JSON, nullable=True)
    addresses: Mapped[list["Address"]] = relationship(back_populates="user",
                                                      order_by="Address.id")
    tags: Mapped[list["Tag"]] = relationship(secondary=user_tags, back_populates="users",
                                             order_by="Tag.id")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship(back_populates="addresses")


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    users: Mapped[list[User]] = relationship(secondary=user_tags, back_populates="tags",
                                             order_by="User.id")


# --- SQL capture: class-level, so it also fires for AsyncEngine.sync_engine -------------------
# The class is fetched with getattr() on purpose: SQA001 renames every static reference to
# `Engine` (also `event.listen(Engine, ...)`) to `AsyncEngine`, which cannot take events
# (see test_engine_class_event_target in test_equivalence.py).
ENGINE_CLASS = getattr(engine_base, "Engine")
CAPTURED = []


def _capture(conn, cursor, statement, parameters, context, executemany):
    CAPTURED.append((statement, bool(conn.dialect.is_async)))


event.listen(ENGINE_CLASS, "before_cursor_execute", _capture)


def sql_summary(captured):
    """[[verb, has LIMIT], ...] per statement, plus the set of 'is the driver async' flags."""
    statements = []
    drivers = set()
    for statement, is_async in captured:
        words = statement.split()
        statements.append([words[0].upper() if words else "", "LIMIT" in statement.upper()])
        drivers.add(is_async)
    return statements, sorted(drivers)


# --- normalisation: never triggers IO ---------------------------------------------------------
MAPPED = (User, Address, Tag)


def _ident(obj):
    state = sa_inspect(obj)
    if state.identity is not None:
        return state.identity[0]
    return obj.__dict__.get("id")


def norm(value, depth=0):
    if isinstance(value, MAPPED):
        key = (type(value).__name__, _ident(value))
        if depth > 0:
            return key
        state = sa_inspect(value)
        loaded = {}
        for rel in state.mapper.relationships:
            if rel.key not in state.unloaded:
                loaded[rel.key] = norm(state.dict.get(rel.key), depth + 1)
        return key + (loaded,) if loaded else key
    if isinstance(value, Row):
        return ("Row",) + tuple(norm(v, depth) for v in value)
    if isinstance(value, (list, tuple)):
        return [norm(v, depth) for v in value]
    if isinstance(value, dict):
        return {"dict": sorted((str(k), norm(v, depth)) for k, v in value.items())}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return "<%s>" % type(value).__name__


def shown(value):
    return json.dumps(norm(value), sort_keys=True, default=repr)


# --- data sets ---------------------------------------------------------------------------------
def reset(session):
    session.execute(delete(user_tags))
    session.execute(delete(Address))
    session.execute(delete(Tag))
    session.execute(delete(User))


def seed_empty(session):
    reset(session)
    session.commit()


def seed_one(session):
    reset(session)
    session.add(User(id=1, name="u1", prefs={"theme": "dark"},
                     addresses=[Address(id=1, email="a1@x")]))
    session.commit()


def seed_many(session):
    reset(session)
    t1 = Tag(id=1, label="red")
    t2 = Tag(id=2, label="blue")
    session.add_all([
        User(id=1, name="u1", prefs={"theme": "dark", "n": [1, 2]}, tags=[t1, t2],
             addresses=[Address(id=1, email="a1@x"), Address(id=2, email="a2@y")]),
        User(id=2, name="u2", prefs=None, tags=[t1],
             addresses=[Address(id=3, email="a3@x")]),
        User(id=3, name="x3", prefs={"theme": "light"}, tags=[]),
        User(id=4, name="u4", prefs=None, tags=[t2],
             addresses=[Address(id=4, email="a4@z")]),
    ])
    session.commit()
'''
