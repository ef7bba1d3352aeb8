"""Two handlers under one name, each registered by its decorator before the name is bound
again: only the second reads the database. The first is reached through the registry by a
plain (synchronous) dispatcher, the second by its name."""

from sqlalchemy import Column, Integer, String, create_engine, select
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Member(Base):
    __tablename__ = "members"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)


engine = create_engine("sqlite://")
HANDLERS = {}


def handles(verb):
    def register(handler):
        HANDLERS[verb] = handler
        return handler
    return register


@handles("GET")
def sign_in():
    return "form: who are you?"


@handles("POST")
def sign_in(name):
    with Session(engine) as session:
        member = session.scalars(select(Member).where(Member.name == name)).first()
        return f"welcome back, {member.name}" if member else f"no member called {name}"


def dispatch(verb, *args):
    return HANDLERS[verb](*args)


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Member(name="ada"))
        session.commit()
    print("GET ->", dispatch("GET"))
    print("POST ada ->", sign_in("ada"))
    print("POST bob ->", sign_in("bob"))


if __name__ == "__main__":
    main()
