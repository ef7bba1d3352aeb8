"""Query variables started differently on different paths: with a join on one (whose duplicate
rows legacy Query removed), as rows of several columns, and refined by filter_by() after a
join; and one whose filter_by() after a join on one path only has no select() form."""
import warnings

warnings.simplefilter("ignore")
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str]
    jars: Mapped[list["Jar"]] = relationship(back_populates="shelf")


class Jar(Base):
    __tablename__ = "jars"
    id: Mapped[int] = mapped_column(primary_key=True)
    spice: Mapped[str]
    grams: Mapped[int]
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"))
    shelf: Mapped[Shelf] = relationship(back_populates="jars")


engine = create_engine("sqlite://")


def shelves(session: Session, stocked: bool):
    # a join on one path repeats each shelf once per jar: legacy Query de-duplicated them
    if stocked:
        q = session.query(Shelf).join(Shelf.jars)
    else:
        q = session.query(Shelf)
    return [s.label for s in q.order_by(Shelf.id).all()]


def shelves_refined(session: Session, stocked: bool):
    q = session.query(Shelf)
    if stocked:
        q = q.join(Shelf.jars).filter(Jar.grams > 10)
    else:
        q = q.filter(Shelf.id > 1)
    return [s.label for s in q.order_by(Shelf.id)]


def shelf_with_jar(session: Session, shelf_id: int, with_jar: bool):
    if with_jar:
        q = session.query(Shelf, Jar.spice).join(Jar, Jar.shelf_id == Shelf.id, isouter=True)
    else:
        q = session.query(Shelf, None)
    row = q.filter(Shelf.id == shelf_id).order_by(Jar.id if with_jar else Shelf.id).first()
    return row[0].label, row[1]


def spices_on(session: Session, label: str):
    # filter_by() after a join applies to the joined entity
    q = session.query(Jar).join(Jar.shelf)
    q = q.order_by(Jar.id)
    return [j.spice for j in q.filter_by(label=label).all()]


def heavy_or_labelled(session: Session, label: str, joined: bool):
    # filter_by() applies to Shelf on one path and to Jar on the other: no one select()
    q = session.query(Jar)
    if joined:
        q = q.join(Jar.shelf)
        return [j.spice for j in q.filter_by(label=label).order_by(Jar.id).all()]
    return [j.spice for j in q.filter_by(grams=5).order_by(Jar.id).all()]


def labels_of(session: Session, model, shelves_only: bool):
    # the second start has no select() form (the model is a parameter): nor has the first then
    if shelves_only:
        q = session.query(Shelf)
    else:
        q = session.query(model)
    return sorted(type(o).__name__ + str(o.id) for o in q.all())


def labelled(session: Session, model, label: str):
    # every caller passes Shelf: the query is of Shelf, and the jars read below load with it
    return session.query(model).filter(model.label == label).all()


def jar_counts(session: Session, label: str):
    return [len(s.jars) for s in labelled(session, Shelf, label)]


def report(session: Session):
    print("shelves", shelves(session, True), shelves(session, False))
    print("refined", shelves_refined(session, True), shelves_refined(session, False))
    print("with jar", shelf_with_jar(session, 1, True), shelf_with_jar(session, 2, False))
    print("spices on top", spices_on(session, "top"))
    print("heavy or labelled", heavy_or_labelled(session, "low", True),
          heavy_or_labelled(session, "low", False))
    print("jar counts", jar_counts(session, "top"), jar_counts(session, "empty"))
    print("labels", labels_of(session, Jar, True), labels_of(session, Jar, False), labels_of(session, Shelf, False))


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Shelf(id=1, label="top"), Shelf(id=2, label="low"),
                         Shelf(id=3, label="empty")])
        session.add_all([Jar(id=1, spice="cumin", grams=40, shelf_id=1),
                         Jar(id=2, spice="mace", grams=5, shelf_id=1),
                         Jar(id=3, spice="sumac", grams=25, shelf_id=2),
                         Jar(id=4, spice="nigella", grams=5, shelf_id=2)])
        session.commit()
        report(session)


if __name__ == "__main__":
    main()
