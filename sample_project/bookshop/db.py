"""Engine, session factory and the FastAPI session dependency."""

from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bookshop.models import Base

DATABASE_URL = "sqlite:///bookshop.db"

engine = create_engine(DATABASE_URL)
SessionLocal = sessionmaker(bind=engine)


def make_engine(url: str = "sqlite://") -> Engine:
    return create_engine(url)


def init_db(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def get_db() -> Iterator[Session]:
    """FastAPI dependency: one session per request, closed when the response is sent."""
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
