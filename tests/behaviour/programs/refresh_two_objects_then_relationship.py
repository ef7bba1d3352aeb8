"""Two objects refreshed in turn, then a relationship of the first read: refresh() left it
unloaded (a lazy load the sync program made there)."""
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


def add_person(session, person, value):
    session.add(person)
    session.add(Balance(value=value, person=person))
    return person, True


def credit(engine, amount):
    with Session(engine) as other:
        for balance in other.scalars(sa.select(Balance)):
            balance.value += amount
        other.commit()


def main():
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        joe, created = add_person(session, Person(id=1, name="joe"), 100)
        jim, _ = add_person(session, Person(id=2, name="jim"), 10)
        session.commit()
        credit(engine, 50)
        session.refresh(joe)
        session.refresh(jim)
        session.refresh(jim, ["balance"])
        print(joe.name, joe.balance.value, jim.balance.value)


if __name__ == "__main__":
    main()
