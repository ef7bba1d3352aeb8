import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bookshop import repository as repo
from bookshop.db import SessionLocal
from bookshop.models import Base


@pytest.fixture
def engine():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
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
def catalogue(session):
    """A small catalogue built through the repository layer."""
    le_guin = repo.get_or_create_author(session, "Ursula K. Le Guin", "USA")
    lem = repo.get_or_create_author(session, "Stanisław Lem", "Poland")
    calvino = repo.get_or_create_author(session, "Italo Calvino", "Italy")
    earthsea = repo.add_book(session, le_guin, "A Wizard of Earthsea", "111", 1099, 5, 1968)
    darkness = repo.add_book(session, le_guin, "The Left Hand of Darkness", "222", 1299, 2, 1969)
    solaris = repo.add_book(session, lem, "Solaris", "333", 1450, 1, 1961)
    cities = repo.add_book(session, calvino, "Invisible Cities", "444", 1250, 0, 1972)
    repo.add_review(session, earthsea, "ana", 5, "A classic.")
    repo.add_review(session, earthsea, "ben", 4)
    repo.add_review(session, darkness, "ana", 5)
    repo.add_review(session, solaris, "carl", 3)
    customer = repo.create_customer(session, "ana@example.com", "Ana Lima")
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
