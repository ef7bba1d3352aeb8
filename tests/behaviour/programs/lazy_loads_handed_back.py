"""Loaded objects handed back in other shapes than a plain return: yielded by a generator, in
a dict built by a comprehension, as `[0]` of a list, in a tuple with another load; the
callers read relationships of each in a fresh session."""
from sqlalchemy import ForeignKey, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    jars: Mapped[list["Jar"]] = relationship(back_populates="shelf", order_by="Jar.id")


class Jar(Base):
    __tablename__ = "jars"
    id: Mapped[int] = mapped_column(primary_key=True)
    spice: Mapped[str] = mapped_column(String(20))
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"))
    shelf: Mapped[Shelf] = relationship(back_populates="jars")


engine = create_engine("sqlite://")


def iter_jars(session):
    for jar in session.scalars(select(Jar).order_by(Jar.id)):
        yield jar


def jars_by_id(session):
    return {jar.id: jar for jar in session.scalars(select(Jar))}


def newest_jar(session):
    jars = session.scalars(select(Jar).order_by(Jar.id.desc())).all()
    return jars[0]


def shelf_and_jar(session):
    shelf = session.get(Shelf, 1)
    jar = session.scalars(select(Jar).where(Jar.spice == "salt")).first()
    return shelf, jar


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Shelf(label="top", jars=[Jar(spice="cumin"), Jar(spice="clove")]),
                         Shelf(label="low", jars=[Jar(spice="salt")])])
        session.commit()
    with Session(engine) as session:
        for found in iter_jars(session):
            print("yielded:", found.spice, found.shelf.label)
    with Session(engine) as session:
        print("by id:", jars_by_id(session)[3].shelf.label)
    with Session(engine) as session:
        print("newest:", newest_jar(session).shelf.label)
    with Session(engine) as session:
        shelf, salt = shelf_and_jar(session)
        print("pair:", [j.spice for j in shelf.jars], salt.shelf.label)


if __name__ == "__main__":
    main()
