"""A small inventory: functions taking a session, and a main() using them. Its tests
(suites/xunit_hooks/) build the database in pytest's setup_method/teardown_method."""
from sqlalchemy import String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(default=0)


def stock(session: Session, name: str, count: int) -> Item:
    item = Item(name=name, count=count)
    session.add(item)
    session.commit()
    return item


def total(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.sum(Item.count), 0)))


def names(session: Session) -> list[str]:
    return [item.name for item in session.query(Item).order_by(Item.name)]


def main():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        stock(session, "bolt", 3)
        stock(session, "nut", 4)
        print(total(session), names(session))


if __name__ == "__main__":
    main()
