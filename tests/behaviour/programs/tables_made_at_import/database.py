"""A library module that makes its tables when it is first imported: whoever imports it may
use them right away. `main.py` imports it outside any event loop, `served.py` inside a running
one (as uvicorn imports an application); run as a program, it only makes the tables."""

from sqlalchemy import Column, Integer, String, create_engine, select
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)


engine = create_engine("sqlite://")
Base.metadata.create_all(bind=engine)


def add(name):
    with Session(engine) as session:
        session.add(Item(name=name))
        session.commit()


def names():
    with Session(engine) as session:
        return list(session.scalars(select(Item.name).order_by(Item.id)))
