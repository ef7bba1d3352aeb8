"""A query variable the tool cannot convert (one path selects objects, another a column;
it is handed to functions) in a function that must become async: it stays a legacy Query on
the session's sync_session, and each use that runs it goes through run_sync — its count, a
loop over it, a project function and an outside one it is handed. Same rows out."""
import heapq

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Publisher(Base):
    __tablename__ = "publishers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    hidden: Mapped[bool] = mapped_column(default=False)


engine = create_engine("sqlite://")


def visible(session: Session):
    hidden = session.scalars(select(Publisher.id).where(Publisher.hidden)).all()
    return Publisher.id.not_in(hidden)


def render(items) -> str:
    return ";".join(item.name for item in items)


def publisher_page(session: Session, page_size: int, newest: bool) -> str:
    entries = session.query(Publisher).filter(visible(session))
    if newest:
        entries = entries.order_by(Publisher.id.desc())
    else:
        entries = entries.order_by(Publisher.name)
    entries = entries.with_entities(Publisher.name) if page_size == 0 else entries.limit(page_size)
    total = entries.count()
    names = [p.name for p in entries]
    page = render(items=entries)
    first_two = heapq.nsmallest(2, entries, key=lambda p: p.name)
    return f"{total} {names} {page} {[p.name for p in first_two]}"


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Publisher(name="b"), Publisher(name="a"), Publisher(name="c", hidden=True)])
        session.commit()
        print(publisher_page(session, 5, True))
        print(publisher_page(session, 1, False))


if __name__ == "__main__":
    main()
