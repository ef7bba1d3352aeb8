"""Methods that become async, called on objects a project function returns: typed by its
return annotation, by what every return hands back, and element by element for a
`(obj, created)` tuple unpacked by the caller. Each call is awaited, so the renames land."""
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]

    def rename(self, session: Session, name: str) -> None:
        self.name = name
        session.flush()


engine = create_engine("sqlite://")


def find(session: Session, name: str) -> Person | None:
    return session.scalars(select(Person).where(Person.name == name)).first()


def by_id(session: Session, pk: int):
    person = session.get(Person, pk)
    return person


def get_or_create(session: Session, name: str):
    found = session.scalars(select(Person).where(Person.name == name)).first()
    if found is None:
        found = Person(name=name)
        session.add(found)
        return found, True
    return found, False


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        first, created = get_or_create(session, "ada")
        print("created", created)
        first.rename(session, "ada lovelace")
        again, created = get_or_create(session, "ada lovelace")
        print("created again", created, again.id == first.id)
        second, _ = get_or_create(session, "alan")
        found = find(session, "alan")
        found.rename(session, "alan turing")
        latest = by_id(session, second.id)
        latest.rename(session, latest.name.title())
        session.commit()
        print(session.scalars(select(Person.name).order_by(Person.id)).all())


if __name__ == "__main__":
    main()
