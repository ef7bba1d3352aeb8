"""The plan's decisions over small in-memory indexes (no files, no libcst)."""

from __future__ import annotations

import dataclasses

import pytest

from codemods.analysis import ObjKind, Plan, RunState
from codemods.index import index_source


def plan_of(**modules: str) -> Plan:
    return Plan.build(index_source(text, f"<{name}>", module=name.replace("__", "."))
                      for name, text in modules.items())


MODELS = '''
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

class Base(DeclarativeBase):
    pass

class Mixin:
    pass

class User(Mixin, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    addresses: Mapped[list["Address"]] = relationship(back_populates="user", lazy="joined")

class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped["User"] = relationship(back_populates="addresses")

class Admin(User):
    pass

class NotMapped:
    pass
'''

DB = '''
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
'''

REPO = '''
from app.models import User

def first(session):
    return session.query(User).first()

def named(s, name):
    return s.scalars(name)
'''

SERVICE = '''
from app import repo
from app.db import SessionLocal, engine

def run():
    with SessionLocal() as session:
        return repo.first(session)

def also():
    db = SessionLocal()
    conn = engine.connect()
    return repo.named(db, "x"), conn

class Service:
    def __init__(self, session):
        self.session = session

    def load(self):
        return self.helper()

    def helper(self):
        return run()

    @property
    def value(self):
        return run()
'''


def test_mapped_classes_follow_bases_and_mixins() -> None:
    plan = plan_of(app__models=MODELS)
    assert set(plan.mapped_classes) == {"app.models.User", "app.models.Address",
                                        "app.models.Admin"}
    assert plan.joined_collections("app.models.User")
    assert not plan.joined_collections("app.models.Address")
    assert plan.relationship_target("app.models.Address", "user") == "app.models.User"
    assert plan.relationship_target("app.models.User", "addresses") == "app.models.Address"


def test_declarative_base_factory_and_sqlmodel_table() -> None:
    plan = plan_of(m='''
from sqlalchemy.orm import declarative_base
from sqlmodel import SQLModel, Field
Base = declarative_base()
class A(Base):
    __tablename__ = "a"
class HeroBase(SQLModel):
    name: str
class Hero(HeroBase, table=True):
    id: int = Field(primary_key=True)
class HeroRead(HeroBase):
    pass
''')
    assert set(plan.mapped_classes) == {"m.A", "m.Hero"}


def test_object_kinds_across_modules() -> None:
    plan = plan_of(app__models=MODELS, app__db=DB, app__repo=REPO, app__service=SERVICE)
    service, repo, db = (plan.modules[m] for m in ("app.service", "app.repo", "app.db"))
    assert plan.kind(db, "", "engine") is ObjKind.ENGINE
    assert plan.kind(db, "", "SessionLocal") is ObjKind.FACTORY
    assert plan.kind(service, "run", "session") is ObjKind.SESSION  # with SessionLocal() as s
    assert plan.kind(service, "also", "db") is ObjKind.SESSION  # db = SessionLocal()
    assert plan.kind(service, "also", "conn") is ObjKind.CONNECTION
    # A parameter is a session because of what it is called with, two modules away.
    assert plan.kind(repo, "first", "session") is ObjKind.SESSION
    assert plan.kind(repo, "named", "s") is ObjKind.SESSION
    assert plan.kind(repo, "named", "name") is None


def test_query_evidence_needs_a_mapped_class() -> None:
    plan = plan_of(app__models=MODELS, m='''
from app.models import User
def a(db):
    return db.query(User)
def b(index):
    return index.query("text")
''')
    ix = plan.modules["m"]
    assert plan.kind(ix, "a", "db") is ObjKind.SESSION
    assert plan.kind(ix, "b", "index") is None


def test_colouring_reaches_callers_but_not_properties() -> None:
    plan = plan_of(app__models=MODELS, app__db=DB, app__repo=REPO, app__service=SERVICE)
    coloured = plan.colour({("app.repo", "first")})
    assert ("app.service", "run") in coloured
    assert ("app.service", "Service.helper") in coloured
    assert ("app.service", "Service.load") in coloured  # via self.helper()
    assert ("app.service", "Service.value") not in coloured  # @property stays sync
    assert plan.cannot_be_async(("app.service", "Service.__init__"))


def test_local_variable_shadows_function_name() -> None:
    plan = plan_of(m='''
def helper():
    pass
def caller():
    helper = object()
    helper()
def other():
    helper()
''')
    ix = plan.modules["m"]
    assert plan.resolve_function(ix, "caller", "helper") is None
    assert plan.resolve_function(ix, "other", "helper") == ("m", "helper")


def test_class_attribute_aliasing_its_own_name_resolves_outside() -> None:
    plan = plan_of(app__models=MODELS, m='''
from app.models import User

class Holder:
    User = User
    Other = Missing
    Missing = Other

    def load(self):
        return describe(self)

def describe(holder):
    return holder
''')
    ix = plan.modules["m"]
    assert plan.mapped_class(ix, "Holder", "User") == "app.models.User"
    assert plan.mapped_class(ix, "Holder", "Other") is None  # a cycle ends
    # a bare name in a method is the module's function, not the class attribute
    assert plan.resolve_function(ix, "Holder.load", "describe") == ("m", "describe")


def test_relationship_reads_follow_pass_through_returns_and_backrefs() -> None:
    plan = plan_of(m='''
from sqlalchemy.orm import declarative_base, relationship
Base = declarative_base()

class User(Base):
    __tablename__ = "users"
    posts = relationship("Post", backref="author")

class Post(Base):
    __tablename__ = "posts"

def get(session, i):
    return session.query(Post).get(i)

def require(session, i):
    post = get(session, i)
    return post

def show(session):
    post = require(session, 1)
    print(post.author.name)
''')
    assert "author" in plan.mapped_classes["m.Post"].relationships
    chains, _ = plan.reads_on_result(("m", "get"))
    assert "author.name" in chains
    assert plan.returns_loaded(("m", "require"))


HELPERS = '''
from app.models import User

def active(session):
    return session.query(User).filter(User.id > 0)

def caller(session):
    return active(session).all()

def loaded(session):
    return session.query(User).all()
'''


def test_run_state_is_an_immutable_value() -> None:
    state = RunState()
    assert state.legacy == frozenset() and state.async_functions == frozenset()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.legacy = frozenset({("m", "f")})  # type: ignore[misc]


def test_with_state_answers_for_the_new_state_and_leaves_the_original() -> None:
    plan = plan_of(app__models=MODELS, app__db=DB, app__repo=REPO, app__service=SERVICE,
                   app__helpers=HELPERS)
    state = RunState(context=frozenset({"app.helpers"}),
                     console_scripts=frozenset({("app.service", "run")}),
                     legacy=frozenset({("app.helpers", "loaded")}),
                     keep_sync=frozenset({("app.service", "also")}),
                     async_functions=frozenset({("app.repo", "first")}))
    other = plan.with_state(state)
    assert other.state is state and other.legacy == state.legacy
    assert other.keep_sync == state.keep_sync and other.context == state.context
    assert other.console_scripts == state.console_scripts
    assert other.async_functions == state.async_functions
    # state-dependent answers differ ...
    assert ("app.helpers", "active") in plan.query_helpers
    assert other.query_helpers == {}  # context modules are not rewritten
    assert plan.sync_boundary(("app.service", "run")) is None
    assert other.sync_boundary(("app.service", "run")) == "a console script"
    assert ("app.service", "run") in plan.colour({("app.repo", "first")})
    assert ("app.service", "Service.helper") not in other.colour({("app.repo", "first")})
    assert plan.returns_loaded(("app.helpers", "loaded"))
    assert not other.returns_loaded(("app.helpers", "loaded"))  # legacy: no loader options
    ix = plan.modules["app.service"]
    assert "also" in plan.relevant_scopes(ix) and "also" not in other.relevant_scopes(ix)
    # ... the original plan keeps its (empty) state, and the state-free analysis is shared
    assert plan.state == RunState() and plan.legacy == frozenset()
    assert ("app.helpers", "active") in plan.query_helpers
    assert other.mapped_classes is plan.mapped_classes
    assert other.callers(("app.repo", "first")) is plan.callers(("app.repo", "first"))


def test_importers_of_a_module() -> None:
    plan = plan_of(**{
        "app.db": "engine = None\n",
        "app.jobs.seed": "print('seeding')\n",
        "app.api": "from app.db import engine\n",
        "app.cli": "from app import db\n",
        "tools": "import app.jobs.seed\n",  # indexed as `import app`: counts for all below
        "script": "print('alone')\n",
    })
    assert plan.importers("app.db") == ["app.api", "app.cli", "tools"]
    assert plan.importers("app.jobs.seed") == ["tools"]
    assert plan.importers("script") == []


def test_library_names_passed_on_by_project_modules() -> None:
    plan = plan_of(**{
        "app.core": "from sqlalchemy.orm import Session, sessionmaker\nfrom os import path\n",
        "app.manage": "from app.core import sessionmaker\nfactory = sessionmaker()\n",
        "app.api": "from app.core import *\n\ndef f():\n    return path.join('a')\n",
        "app.web": "from app.api import *\n",
    })
    manage = plan.modules["app.manage"]
    assert plan.qualify(manage, "sessionmaker") == "sqlalchemy.orm.sessionmaker"
    assert plan.passed_on("app.core", "sessionmaker")  # imported by name
    assert plan.passed_on("app.core", "path")  # read where a star import brings it
    assert not plan.passed_on("app.core", "Session")  # star-imported, read nowhere
    assert not plan.passed_on("app.manage", "sessionmaker")


def test_value_names_are_names_used_without_calling_them() -> None:
    ix = index_source(
        "def on_save(x):\n    pass\n\n"
        "def setup(bus, registry):\n"
        "    registry.run(bus.flush)\n"
        "    handlers = {'save': on_save}\n"
        "    handlers['save'] = registry.helper\n"
        "    return handlers\n", "<m>", module="m")
    # (`bus` and `registry` only lead to attributes: what is handed on is `bus.flush`)
    assert ix.value_names["setup"] == {"flush", "on_save", "helper", "handlers"}
    assert "run" not in ix.value_names["setup"]  # called, not handed on


# -- which FastAPI apps get a lifespan (SQA010 moves into it, SQA309 asks) --------------------

APP = '''
from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase

engine = create_engine("sqlite://")

class Base(DeclarativeBase):
    pass

{before}
app = FastAPI({args})
{after}
'''


def _app(before: str = "Base.metadata.create_all(bind=engine)", args: str = "",
         after: str = "") -> str:
    return APP.format(before=before, args=args, after=after)


@pytest.mark.parametrize(("text", "gets"), [
    (_app(), True),
    (_app(before="Base.metadata.create_all(engine); x = 1"), False),  # one line, two statements
    (_app(before="", after="Base.metadata.create_all(bind=engine)"), False),  # after the app
    (_app(args="lifespan=handler"), False),
    (_app(after="@app.on_event('startup')\ndef start(): pass"), False),
    (_app(before="Base.metadata.create_all(bind=engine)  # sqla-asyncify: ignore[SQA010]"),
     False),
    (_app(before="# sqla-asyncify: ignore\nBase.metadata.create_all(bind=engine)"), False),
    (_app(before="Base.metadata.create_all(bind=something_else)"), False),
    (_app(before="if True:\n    Base.metadata.create_all(bind=engine)"), False),
])
def test_an_app_gets_a_lifespan_when_module_level_ddl_moves_into_it(text: str, gets: bool
                                                                    ) -> None:
    from codemods import Config

    plan = plan_of(main=text)
    assert bool(plan.gets_lifespan("main.app", Config())) is gets


def test_no_lifespan_is_promised_when_sqa010_does_not_run_or_the_app_is_context() -> None:
    from codemods import Config

    plan = plan_of(main=_app())
    assert plan.gets_lifespan("main.app", Config())
    assert not plan.gets_lifespan("main.app", Config(ignore=frozenset({"SQA0"})))
    assert not plan.gets_lifespan("main.app", Config(select=frozenset({"SQA1"})))
    assert not plan.gets_lifespan("main.app", Config(target="sync"))
    assert not plan.gets_lifespan("main.engine", Config())
    assert not plan.with_state(RunState(context=frozenset({"main"}))).gets_lifespan(
        "main.app", Config())


DECORATORS = '''
from functools import wraps

def requires_user(f):
    @wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, user=1, **kwargs)
    return wrapper

def retry(times):
    def decorator(f):
        def wrapper(*args):
            return f(*args)
        return wrapper
    return decorator

def logged(f):
    def wrapper():
        return f()
    return wrapper

@requires_user
def give(points, user):
    pass

class Ledger:
    @retry(3)
    def balance(self):
        pass

@logged
def count():
    pass

checked = logged(print)
'''


def test_decorator_wrappers_and_what_they_wrap() -> None:
    plan = plan_of(app__deco=DECORATORS)
    wrapper = plan.wrapper(("app.deco", "requires_user.wrapper"))
    assert wrapper is not None and wrapper.param == "f" and wrapper.unknown is None
    assert wrapper.wrapped == (("app.deco", "give"),)
    factory = plan.wrapper(("app.deco", "retry.decorator.wrapper"))  # `@retry(3)` on a method
    assert factory is not None and factory.wrapped == (("app.deco", "Ledger.balance"),)
    assert factory.unknown is None
    called = plan.wrapper(("app.deco", "logged.wrapper"))  # also `logged(print)`
    assert called is not None and "logged()" in (called.unknown or "")
    # the wrapper and what it wraps share one colour, both ways
    assert plan.colour({("app.deco", "give")}) >= {("app.deco", "requires_user.wrapper")}
    assert ("app.deco", "Ledger.balance") in plan.colour({("app.deco", "retry.decorator.wrapper")})


CLICK_DROP_IN = '''
import asyncclick
import rich_click as click
from app.kit import group

@click.group()
def cli():
    pass

@cli.command()
def ping():
    pass

@group()
def tools():
    pass

@asyncclick.command()
def run():
    pass
'''


def test_click_drop_ins_and_re_exports_are_sync_boundaries() -> None:
    plan = plan_of(app__cli=CLICK_DROP_IN, app__kit="from click import group\n")
    for name in ("cli", "ping", "tools", "run"):
        assert plan.sync_boundary(("app.cli", name)), name
    assert plan.framework_awaits(("app.cli", "run"))  # asyncclick awaits its callbacks
    assert not plan.framework_awaits(("app.cli", "ping"))


def test_attribute_copied_from_an_object_of_the_same_class_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`self.title = other.title` with `other: Draft` in Draft: what `other.title` holds is
    what Draft's `title` is assigned, which includes `other.title` — asked once, not round
    and round to the recursion limit (met in a real project's node class)."""
    from codemods.analysis import kinds

    asked: list[str] = []
    real = kinds.Kinds._declared_attribute_kind

    def counted(self, ix, owner, attr):
        asked.append(attr)
        return real(self, ix, owner, attr)

    monkeypatch.setattr(kinds.Kinds, "_declared_attribute_kind", counted)
    plan = plan_of(drafts='''
from __future__ import annotations
from sqlalchemy.orm import Session

class Draft:
    def __init__(self, title):
        self.title = title

    def take_title_of(self, other: Draft):
        self.title = other.title
''')
    ix = plan.modules["drafts"]
    assert plan.kind(ix, "Draft.take_title_of", "other.title") is None
    assert len(asked) <= 2
