"""The database module: the engine, the models, and SQLAlchemy's sessionmaker, which other
modules import from here rather than from sqlalchemy.orm."""
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
