"""A unit of work whose subclass enters through super().__enter__(), with an annotated
session attribute and a factory parameter typed as sessionmaker."""
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Crate(Base):
    __tablename__ = "crates"
    id: Mapped[int] = mapped_column(primary_key=True)
    fruit: Mapped[str]


class Unit:
    def __enter__(self):
        print("enter unit")
        return self

    def __exit__(self, *args):
        self.rollback()
        print("left unit")

    def rollback(self):
        raise NotImplementedError


class SqlUnit(Unit):
    def __init__(self, factory: sessionmaker):
        self.factory = factory

    def __enter__(self):
        self.session: Session = self.factory()
        return super().__enter__()

    def __exit__(self, *args):
        super().__exit__(*args)
        self.session.close()

    def commit(self):
        self.session.commit()

    def rollback(self):
        self.session.rollback()


def main():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = sessionmaker(bind=engine)
    with SqlUnit(factory) as unit:
        unit.session.add(Crate(id=1, fruit="fig"))
        unit.commit()
    with SqlUnit(factory) as unit:
        unit.session.add(Crate(id=2, fruit="plum"))  # rolled back on exit
    with SqlUnit(factory) as unit:
        print([c.fruit for c in unit.session.scalars(select(Crate).order_by(Crate.id))])


if __name__ == "__main__":
    main()
