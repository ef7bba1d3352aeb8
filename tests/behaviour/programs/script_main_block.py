"""A to-do script whose work sits in a `__main__` block: the engine is made there, helpers
read it as a global, and a loop calls helpers that query until nothing is left."""

import sys

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Chore(Base):
    __tablename__ = "chores"
    id: Mapped[int] = mapped_column(primary_key=True)
    what: Mapped[str]
    done: Mapped[bool] = mapped_column(default=False)


def open_chores() -> list[Chore]:
    with Session(engine) as session:
        return list(session.scalars(select(Chore).where(~Chore.done).order_by(Chore.id)))


def finish(chore_id: int) -> None:
    with Session(engine) as session:
        session.get(Chore, chore_id).done = True
        session.commit()


if __name__ == "__main__":
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Chore(what=w) for w in ["dishes", "laundry", "plants"]])
        session.commit()
    print("to do:", [c.what for c in open_chores()])
    rounds = 0
    while chores := open_chores():
        rounds += 1
        print(f"round {rounds}: finishing {chores[0].what}")
        finish(chores[0].id)
    print("all done after", rounds, "rounds")
    sys.exit(0)
