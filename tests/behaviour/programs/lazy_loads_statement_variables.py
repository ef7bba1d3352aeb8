"""Spice rack: statements kept in variables before they run (built once, refined, run twice,
also counted), results kept in variables (`result.scalars()`, `result.first()`), a bare
`.scalar()` on an executed select, and legacy queries kept in a variable; every report reads
relationships of the objects afterwards and prints what it read. A variable may also be
assigned queries of different entities in turn, or one of two in an `if`."""
from sqlalchemy import ForeignKey, String, create_engine, func, select
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


def built_then_refined(session, label):
    stmt = select(Shelf).where(Shelf.label != label)
    stmt = stmt.order_by(Shelf.id.desc())
    for shelf in session.scalars(stmt).all():
        print("refined:", shelf.label, [jar.spice for jar in shelf.jars])


def one_jar(session, spice):
    stmt = select(Jar).where(Jar.spice == spice)
    jar = session.execute(stmt).scalar_one()
    print("one:", jar.spice, "on", jar.shelf.label, "with", len(jar.shelf.jars), "jars")


def run_twice(session):
    stmt = select(Jar).order_by(Jar.id)
    first = session.execute(stmt).scalars().first()
    print("first of twice:", first.spice, first.shelf.label)
    print("all of twice:", [jar.spice for jar in session.scalars(stmt).all()])


def counted_too(session):
    stmt = select(Shelf).order_by(Shelf.id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    shelves = session.scalars(stmt).all()
    print("counted:", total, [(shelf.label, len(shelf.jars)) for shelf in shelves])


def result_in_variable(session):
    result = session.execute(select(Shelf).order_by(Shelf.id))
    for shelf in result.scalars():
        print("result:", shelf.label, [jar.spice for jar in shelf.jars])


def result_first(session):
    result = session.scalars(select(Jar).where(Jar.spice.like("c%")).order_by(Jar.id))
    jar = result.first()
    print("result first:", jar.spice, jar.shelf.label)


def result_iterated(session):
    result = session.scalars(select(Jar).order_by(Jar.id.desc()))
    for jar in result:
        print("iterated:", jar.spice, jar.shelf.label)


def bare_scalar(session):
    jar = session.execute(select(Jar).where(Jar.spice == "mace")).scalar()
    print("scalar:", jar.spice, jar.shelf.label)


def legacy_kept(session, label):
    query = session.query(Shelf).filter(Shelf.label == label)
    shelves = query.all()
    for shelf in shelves:
        print("legacy:", shelf.label, [jar.spice for jar in shelf.jars])


def legacy_refined_and_iterated(session):
    query = session.query(Jar)
    query = query.filter(Jar.spice != "salt").order_by(Jar.id)
    for jar in query:
        print("legacy iterated:", jar.spice, jar.shelf.label)


def legacy_chain_iterated(session):
    query = session.query(Jar).filter(Jar.spice.like("c%")).order_by(Jar.id.desc())
    for jar in query:
        print("legacy chain:", jar.spice, jar.shelf.label)


def legacy_first(session):
    query = session.query(Jar).order_by(Jar.id.desc())
    jar = query.first()
    print("legacy first:", jar.spice, [other.spice for other in jar.shelf.jars])


def legacy_reassigned(session):
    query = session.query(Shelf).filter(Shelf.label != "bottom").order_by(Shelf.id)
    shelves = query.all()
    query = session.query(Jar).order_by(Jar.id)
    for jar in query:
        print("reassigned:", jar.spice, jar.shelf.label)
    print("reassigned shelves:", [shelf.label for shelf in shelves])


def select_reassigned(session):
    stmt = select(Jar).where(Jar.spice != "salt").order_by(Jar.id)
    jars = session.scalars(stmt).all()
    stmt = select(Shelf).order_by(Shelf.id)
    for shelf in session.scalars(stmt):
        print("reassigned select:", shelf.label, [jar.spice for jar in shelf.jars])
    print("reassigned jars:", [jar.spice for jar in jars])


def legacy_either(session, by_shelf):
    if by_shelf:
        query = session.query(Shelf).order_by(Shelf.id)
    else:
        query = session.query(Jar).filter(Jar.spice.like("c%")).order_by(Jar.id)
    for found in query:
        print("either:", found.shelf.label if isinstance(found, Jar) else found.label)


def seed():
    with Session(engine) as session:
        session.add_all([
            Shelf(label="top", jars=[Jar(spice="cumin"), Jar(spice="clove")]),
            Shelf(label="middle", jars=[Jar(spice="salt"), Jar(spice="mace")]),
            Shelf(label="bottom", jars=[Jar(spice="anise")]),
        ])
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    # a fresh session for each report: nothing comes from an earlier identity map
    with Session(engine) as session:
        built_then_refined(session, "middle")
    with Session(engine) as session:
        one_jar(session, "mace")
    with Session(engine) as session:
        run_twice(session)
    with Session(engine) as session:
        counted_too(session)
    with Session(engine) as session:
        result_in_variable(session)
    with Session(engine) as session:
        result_first(session)
    with Session(engine) as session:
        result_iterated(session)
    with Session(engine) as session:
        bare_scalar(session)
    with Session(engine) as session:
        legacy_kept(session, "top")
    with Session(engine) as session:
        legacy_refined_and_iterated(session)
    with Session(engine) as session:
        legacy_chain_iterated(session)
    with Session(engine) as session:
        legacy_first(session)
    with Session(engine) as session:
        legacy_reassigned(session)
    with Session(engine) as session:
        select_reassigned(session)
    with Session(engine) as session:
        legacy_either(session, False)
    with Session(engine) as session:
        legacy_either(session, True)

if __name__ == "__main__":
    main()
