"""Sessions made by plain project functions (annotated or not) and entered with `with`."""
import os
import warnings

warnings.simplefilter("ignore")
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Lamp(Base):
    __tablename__ = "lamps"
    id: Mapped[int] = mapped_column(primary_key=True)
    watts: Mapped[int]


engine = create_engine("sqlite://")


def open_session() -> Session:
    return Session(engine)


def new_session():
    return Session(engine)


def add(watts):
    with open_session() as session:
        session.add(Lamp(watts=watts))
        session.commit()


def total():
    with new_session() as session:
        return sum(lamp.watts for lamp in session.scalars(select(Lamp)))


def add_logged(watts):
    # a session and a plain file in one `with`: entered in this order, exited in reverse
    with new_session() as session, open(os.devnull, "w") as log:
        print(watts, file=log)
        session.add(Lamp(watts=watts))
        session.commit()


def main():
    Base.metadata.create_all(engine)
    add(40)
    add(60)
    add_logged(5)
    print("total", total())


if __name__ == "__main__":
    main()
