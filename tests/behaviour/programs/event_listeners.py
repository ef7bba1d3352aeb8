"""Event listeners that do session I/O stay synchronous: SQLAlchemy calls them without an
await. A helper the listener calls stays sync with it, and migrated code that calls the
helper too runs it through session.run_sync; the audit rows come out the same."""
from sqlalchemy import String, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(50))


class Log(Base):
    __tablename__ = "log"
    id: Mapped[int] = mapped_column(primary_key=True)
    what: Mapped[str] = mapped_column(String(50))


engine = create_engine("sqlite://")


def record(session: Session, what: str) -> None:
    session.execute(text("INSERT INTO log (what) VALUES (:w)"), {"w": what})


@event.listens_for(Session, "before_flush")
def audit_new_notes(session, flush_context, instances):
    for obj in list(session.new):
        if isinstance(obj, Note):
            record(session, f"new note {obj.body}")


class FlushCounter:
    def __init__(self) -> None:
        self.logged = []

    def logged_rows(self, session: Session) -> int:
        return session.execute(text("SELECT count(*) FROM log")).scalar()

    def after_flush(self, session: Session, flush_context) -> None:
        self.logged.append(self.logged_rows(session))

    def install(self) -> None:
        event.listen(Session, "after_flush", self.after_flush)


counter = FlushCounter()
counter.install()


def save(session: Session, body: str) -> int:
    session.add(Note(body=body))
    session.flush()
    record(session, f"saved {body}")
    session.commit()
    return session.query(Log).count()


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        print("rows after first", save(session, "one"))
        print("rows after second", save(session, "two"))
        print("log", session.execute(text("SELECT what FROM log ORDER BY id")).scalars().all())
    print("counted at flushes", counter.logged)


if __name__ == "__main__":
    main()
