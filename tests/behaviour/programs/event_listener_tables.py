"""Listeners registered from a table of bound methods (`for name, fn in
self.listeners.items(): event.listen(target, name, fn)`), one of them through a project
decorator, sharing a unit-of-work helper: all stay synchronous, since SQLAlchemy calls them
without an await, and the history rows they write come out the same."""
from functools import wraps

from sqlalchemy import String, create_engine, event, insert, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, object_session


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))


class History(Base):
    __tablename__ = "history"
    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(80))


class UnitOfWork:
    def __init__(self) -> None:
        self.pending = []
        self.history_session = None

    def remember(self, session: Session, note: str) -> None:
        if self.history_session is None:
            self.history_session = Session(bind=session.connection())
        self.pending.append(note)

    def write(self, session: Session) -> None:
        for note in self.pending:
            session.execute(insert(History).values(note=note))
        self.pending = []


def with_session(func):
    @wraps(func)
    def wrapper(self, mapper, connection, target):
        session = object_session(target)
        return func(self, self.unit_of_work(session), session, target)

    return wrapper


class Manager:
    def __init__(self) -> None:
        self.units = {}
        self.session_listeners = {"after_flush": self.after_flush}
        self.mapper_listeners = {"after_insert": self.track_insert}

    def unit_of_work(self, session: Session) -> UnitOfWork:
        connection = session.connection()
        return self.units.setdefault(connection, UnitOfWork())

    @with_session
    def track_insert(self, uow, session, target):
        uow.remember(session, f"inserted {target.title}")

    def after_flush(self, session: Session, flush_context) -> None:
        uow = self.unit_of_work(session)
        uow.write(session)

    def install(self) -> None:
        for name, listener in self.session_listeners.items():
            event.listen(Session, name, listener)
        for name, listener in self.mapper_listeners.items():
            event.listen(Article, name, listener)


manager = Manager()
manager.install()
engine = create_engine("sqlite://")


def publish(session: Session, title: str) -> int:
    session.add(Article(title=title))
    session.commit()
    return session.execute(text("SELECT count(*) FROM history")).scalar()


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        print("history rows", publish(session, "first"))
        print("history rows", publish(session, "second"))
        print(session.execute(text("SELECT note FROM history ORDER BY id")).scalars().all())


if __name__ == "__main__":
    main()
