"""What SQLAlchemy's sync and async APIs look like: the one table every rule reads.

Qualified names are how objects are recognised (never by the spelling of a variable);
the method sets were checked against SQLAlchemy 2.x's sync and asyncio classes.
"""

from __future__ import annotations

SESSION_CLASSES = frozenset({
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
})
ASYNC_SESSION_CLASSES = frozenset({
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlmodel.ext.asyncio.session.AsyncSession",
})
SQLMODEL_SESSION_CLASSES = frozenset({"sqlmodel.Session", "sqlmodel.orm.session.Session"})

# `object_session(obj)`: the session an object belongs to (async: the AsyncSession)
OBJECT_SESSIONS = frozenset({"sqlalchemy.orm.object_session",
                             "sqlalchemy.orm.session.object_session"})
ASYNC_OBJECT_SESSIONS = frozenset({"sqlalchemy.ext.asyncio.async_object_session",
                                   "sqlalchemy.ext.asyncio.session.async_object_session"})
SCOPED_SESSIONS = frozenset({"sqlalchemy.orm.scoped_session",
                             "sqlalchemy.orm.scoping.scoped_session"})
ASYNC_SCOPED_SESSIONS = frozenset({"sqlalchemy.ext.asyncio.async_scoped_session",
                                   "sqlalchemy.ext.asyncio.scoping.async_scoped_session"})
SESSIONMAKERS = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
ASYNC_SESSIONMAKERS = frozenset({
    "sqlalchemy.ext.asyncio.async_sessionmaker",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker",
})

ENGINE_FACTORIES = frozenset({
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlalchemy.engine.create.create_engine",
    "sqlmodel.create_engine",
})
ASYNC_ENGINE_FACTORIES = frozenset({
    "sqlalchemy.ext.asyncio.create_async_engine",
    "sqlalchemy.ext.asyncio.engine.create_async_engine",
    "sqlalchemy.ext.asyncio.async_engine_from_config",
    "sqlalchemy.ext.asyncio.engine.async_engine_from_config",
})
# Engines built from a configuration dict (`sqlalchemy.url` in a Paste/Pyramid .ini file).
CONFIG_ENGINE_FACTORIES = frozenset({"sqlalchemy.engine_from_config",
                                     "sqlalchemy.engine.engine_from_config",
                                     "sqlalchemy.engine.create.engine_from_config"})
# Database URL objects built from parts or parsed from text.
URL_CREATE = frozenset({"sqlalchemy.URL.create", "sqlalchemy.engine.URL.create",
                        "sqlalchemy.engine.url.URL.create"})
MAKE_URL = frozenset({"sqlalchemy.make_url", "sqlalchemy.engine.make_url",
                      "sqlalchemy.engine.url.make_url"})
ENGINE_CLASSES = frozenset({
    "sqlalchemy.Engine", "sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine",
    "sqlalchemy.ext.asyncio.AsyncEngine",
})
CONNECTION_CLASSES = frozenset({
    "sqlalchemy.Connection", "sqlalchemy.engine.Connection", "sqlalchemy.engine.base.Connection",
    "sqlalchemy.ext.asyncio.AsyncConnection",
})

# `event.listen(target, ...)` & co.: the target is their first argument.
EVENT_FUNCTIONS = frozenset({"sqlalchemy.event.listen", "sqlalchemy.event.listens_for",
                             "sqlalchemy.event.remove", "sqlalchemy.event.contains",
                             "sqlalchemy.event.api.listen", "sqlalchemy.event.api.listens_for",
                             "sqlalchemy.event.api.remove", "sqlalchemy.event.api.contains"})

SELECT_FUNCTIONS = frozenset({
    "sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.future.select",
    "sqlalchemy.sql.expression.select", "sqlmodel.select",
})
ALIASED = frozenset({"sqlalchemy.orm.aliased", "sqlalchemy.orm.util.aliased"})

DECLARATIVE_BASE_CLASSES = frozenset({
    "sqlalchemy.orm.DeclarativeBase",
    "sqlalchemy.orm.DeclarativeBaseNoMeta",
    "sqlalchemy.orm.decl_api.DeclarativeBase",
    "sqlalchemy.orm.MappedAsDataclass",
})
# `@as_declarative()` makes the class a declarative base.
DECLARATIVE_BASE_DECORATORS = frozenset({"sqlalchemy.orm.as_declarative",
                                         "sqlalchemy.ext.declarative.as_declarative",
                                         "sqlalchemy.orm.decl_api.as_declarative"})
# Classic / imperative mapping: `mapper(Cls, table)`, `registry.map_imperatively(Cls, table)`.
CLASSIC_MAPPERS = frozenset({"sqlalchemy.orm.mapper", "sqlalchemy.orm.mapperlib.mapper"})
REGISTRY_CLASSES = frozenset({"sqlalchemy.orm.registry", "sqlalchemy.orm.decl_api.registry"})
DECLARATIVE_BASE_FACTORIES = frozenset({
    "sqlalchemy.orm.declarative_base",
    "sqlalchemy.ext.declarative.declarative_base",
    "sqlalchemy.orm.decl_api.declarative_base",
})
SQLMODEL_BASE = "sqlmodel.SQLModel"
PYDANTIC_BASE = "pydantic.BaseModel"
# Class methods that build a schema from an object's attributes (pydantic v2 and v1).
SCHEMA_FROM_OBJECT = frozenset({"model_validate", "from_orm", "validate", "parse_obj"})
# Route decorators: `@app.get(...)`, `@router.post(...)`, …
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options",
                           "api_route"})
RELATIONSHIP_FUNCTIONS = frozenset({
    "sqlalchemy.orm.relationship", "sqlalchemy.orm.relation", "sqlmodel.Relationship",
})
EAGER_JOINING_LOADERS = frozenset({"joinedload", "contains_eager"})

# AsyncSession coroutines. `begin`/`begin_nested` are awaitable "startables": awaited
# when called as a statement, `async with` when entered.
SESSION_COROUTINES = frozenset({
    "execute", "scalar", "scalars", "stream", "stream_scalars", "get", "get_one", "refresh",
    "delete", "delete_all", "merge", "merge_all", "flush", "commit", "rollback", "close",
    "reset", "invalidate", "connection", "run_sync", "exec",
    "remove",  # async_scoped_session's registry method
})
STARTABLES = frozenset({"begin", "begin_nested"})
# AsyncSession methods that stay plain calls (called with `await`, they fail).
SESSION_SYNC_METHODS = frozenset({
    "add", "add_all", "expunge", "expunge_all", "expire", "expire_all", "is_modified",
    "in_transaction", "in_nested_transaction", "get_bind", "get_transaction",
    "get_nested_transaction",
})
CONNECTION_COROUTINES = frozenset({
    "execute", "scalar", "scalars", "exec_driver_sql", "commit", "rollback", "close",
    "invalidate", "run_sync", "stream", "stream_scalars", "execution_options",
    "get_raw_connection",
})
# `engine.connect()` outside `async with` must be awaited (it starts the connection);
# `engine.begin()` can only be entered (`await engine.begin()` is a TypeError).
ENGINE_COROUTINES = frozenset({"dispose", "raw_connection", "connect"})
TRANSACTION_COROUTINES = frozenset({"commit", "rollback", "close", "start"})
ENGINE_CONTEXTS = frozenset({"connect", "begin"})

# `async_sessionmaker(...)` keyword that keeps attributes readable after commit.
EXPIRE_ON_COMMIT = "expire_on_commit"

# Names whose mere mention means a rewrite may act there (the classes and factories the rules
# rename); other SQLAlchemy names (select, func, mapped_column) need a session nearby to matter.
REWRITTEN_NAMES = (SESSION_CLASSES | SESSIONMAKERS | SCOPED_SESSIONS | ENGINE_FACTORIES
                   | CONFIG_ENGINE_FACTORIES | OBJECT_SESSIONS
                   | frozenset({"sqlalchemy.Engine", "sqlalchemy.engine.Engine",
                                "sqlalchemy.engine.base.Engine"}))

# Flask-SQLAlchemy: `db = SQLAlchemy(app)`; `db.session` is a sync scoped_session, `db.Model`
# the declarative base, `Model.query` a legacy Query bound to `db.session`.
FLASK_SQLALCHEMY = frozenset({"flask_sqlalchemy.SQLAlchemy",
                              "flask_sqlalchemy.extension.SQLAlchemy"})

# FastAPI injects what these call (a dependency's return value, or what its generator yields).
DEPENDENCIES = frozenset({"fastapi.Depends", "fastapi.Security", "fastapi.params.Depends"})
