"""A unit of work used as a context manager: its __enter__/__exit__ become __aenter__/__aexit__
and `with uow:` becomes `async with uow:`."""
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(20))


engine = create_engine("sqlite://")
DEFAULT_FACTORY = sessionmaker(bind=engine)


class UnitOfWork:
    """Opens a session on entry, rolls back whatever was not committed on exit."""

    def __init__(self, session_factory=DEFAULT_FACTORY):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        return self

    def __exit__(self, *args):
        self.session.rollback()
        self.session.close()

    def commit(self):
        self.session.commit()


def place(uow: UnitOfWork, ref: str) -> None:
    with uow:
        uow.session.add(Order(ref=ref))
        uow.commit()


def refs() -> list[str]:
    with UnitOfWork() as uow:
        return [o.ref for o in uow.session.query(Order).order_by(Order.ref)]


def main() -> None:
    Base.metadata.create_all(engine)
    place(UnitOfWork(), "b-2")
    place(UnitOfWork(), "a-1")
    print(refs())


if __name__ == "__main__":
    main()
