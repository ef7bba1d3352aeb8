import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool, StaticPool

from bookshop.api.app import app
from bookshop.db import SessionLocal, get_db
from bookshop.models import Base
from bookshop.repositories import books, customers
from bookshop.services.catalogue import seed_demo_data


# The database the tests run on: in-memory SQLite, unless BOOKSHOP_TEST_DATABASE_URL names
# another one (e.g. postgresql://user@localhost/bookshop_test) whose tables they may create
# and drop.
TEST_DATABASE_URL = os.environ.get("BOOKSHOP_TEST_DATABASE_URL", "sqlite://")
ON_SQLITE = make_url(TEST_DATABASE_URL).get_backend_name() == "sqlite"
if ON_SQLITE:
    # One shared in-memory connection, usable from the TestClient's threads too.
    ENGINE_OPTIONS = {"connect_args": {"check_same_thread": False}, "poolclass": StaticPool}
else:
    # A server: a new connection for each checkout, in whichever thread asks for it.
    ENGINE_OPTIONS = {"poolclass": NullPool}


@pytest.fixture
def engine():
    engine = create_engine(TEST_DATABASE_URL, **ENGINE_OPTIONS)
    Base.metadata.create_all(engine)
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def empty_database_url(tmp_path):
    """The URL of an empty database the code under test creates its tables in."""
    if ON_SQLITE:
        url = f"sqlite:///{tmp_path / 'bookshop.db'}"
        yield url
        return
    yield TEST_DATABASE_URL
    engine = create_engine(TEST_DATABASE_URL, **ENGINE_OPTIONS)
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def bound_db(engine):
    """Point the application's SessionLocal at the test engine."""
    SessionLocal.configure(bind=engine)
    yield engine


@pytest.fixture
def shop(bound_db):
    """The demo catalogue and customers, loaded through the services."""
    seed_demo_data()
    return bound_db


@pytest.fixture
def client(engine):
    """A TestClient whose requests get sessions on the test engine."""

    def override_get_db():
        with Session(engine) as db:
            yield db

    app.dependency_overrides[get_db] = override_get_db
    with TestClient(app) as test_client:
        yield test_client
    app.dependency_overrides.clear()


@pytest.fixture
def catalogue(session):
    """A small catalogue built through the repository layer."""
    le_guin = books.get_or_create_author(session, "Ursula K. Le Guin", "USA")
    lem = books.get_or_create_author(session, "Stanisław Lem", "Poland")
    calvino = books.get_or_create_author(session, "Italo Calvino", "Italy")
    earthsea = books.add_book(session, le_guin, "A Wizard of Earthsea", "111", 1099, 5, 1968)
    darkness = books.add_book(session, le_guin, "The Left Hand of Darkness", "222", 1299, 2, 1969)
    solaris = books.add_book(session, lem, "Solaris", "333", 1450, 1, 1961)
    cities = books.add_book(session, calvino, "Invisible Cities", "444", 1250, 0, 1972)
    books.add_review(session, earthsea, "ana", 5, "A classic.")
    books.add_review(session, earthsea, "ben", 4)
    books.add_review(session, darkness, "ana", 5)
    books.add_review(session, solaris, "carl", 3)
    customer = customers.create_customer(session, "ana@example.com", "Ana Lima")
    ids = {
        "earthsea": earthsea.id,
        "darkness": darkness.id,
        "solaris": solaris.id,
        "cities": cities.id,
        "le_guin": le_guin.id,
        "customer": customer.id,
    }
    session.commit()
    return ids
