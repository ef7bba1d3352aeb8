"""A repository whose public get() calls an abstract _get() that a subclass implements with
the query: callers of get() read a relationship on what it returns (through a method of the
object), so the subclass's query needs the loader option."""
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from models import Box, Shelf, metadata, start_mappers
from repository import SqlRepository

engine = create_engine("sqlite://")
Session = sessionmaker(engine)


def main():
    start_mappers()
    metadata.create_all(engine)
    with Session() as session:
        session.add(Shelf("A", [Box(3), Box(7)]))
        session.commit()
    with Session() as session:
        shelf = SqlRepository(session).get("A")
        print(shelf.biggest())


if __name__ == "__main__":
    main()
