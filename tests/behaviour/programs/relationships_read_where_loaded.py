"""Relationships read right on the object a call loads, with no variable between:
`session.get(Person, 1).balance.value += 50`, `query.first().balance.value`. The sync
program loaded them lazily there; migrated, the load that fetches the object loads them."""
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    balance: Mapped["Balance"] = relationship(back_populates="person")


class Balance(Base):
    __tablename__ = "balance"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int]
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    person: Mapped[Person] = relationship(back_populates="balance")


def credit(engine, person_id, amount):
    with Session(engine) as session:
        session.get(Person, person_id).balance.value += amount
        session.commit()


def richest(engine):
    with Session(engine) as session:
        top = session.query(Balance).order_by(Balance.value.desc()).first().person.name
        first = session.query(Person).order_by(Person.id).first().balance.value
        return top, first


def main():
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for i, value in enumerate((10, 70, 40), start=1):
            person = Person(id=i, name=f"p{i}")
            session.add_all([person, Balance(value=value, person=person)])
        session.commit()
    credit(engine, 1, 100)
    print(richest(engine))


if __name__ == "__main__":
    main()
