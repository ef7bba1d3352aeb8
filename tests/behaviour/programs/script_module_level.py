"""A library catalogue script that does all its work at module level: prints and queries
interleaved, loops, helpers, and a counter that a helper reads."""

from sqlalchemy import ForeignKey, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str]
    books: Mapped[list["Book"]] = relationship(back_populates="shelf")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    pages: Mapped[int]
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"))
    shelf: Mapped[Shelf] = relationship(back_populates="books")


print("opening the catalogue")
engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
print("tables:", sorted(Base.metadata.tables))
shelved = 0


def shelve(session: Session, label: str, titles: dict[str, int]) -> Shelf:
    shelf = Shelf(label=label, books=[Book(title=t, pages=p) for t, p in titles.items()])
    session.add(shelf)
    session.flush()
    return shelf


def progress() -> str:
    return f"{shelved} book(s) shelved so far"


with Session(engine) as session:
    for label, titles in [("fiction", {"Dune": 412, "Emma": 474}),
                          ("science", {"Cosmos": 396})]:
        shelf = shelve(session, label, titles)
        shelved += len(titles)
        print(f"shelf {shelf.id} {label}:", progress())
    session.commit()

    longest = session.query(Book).order_by(Book.pages.desc()).first()
    print("longest:", longest.title, longest.pages)
    for label, count in session.query(Shelf.label, func.count(Book.id)).join(
            Shelf.books).group_by(Shelf.label).order_by(Shelf.label):
        print(label, count)
    print("short ones:", session.scalars(select(Book.title).where(Book.pages < 400)).all())

print(progress())
print("catalogue closed")
