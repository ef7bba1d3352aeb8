"""A notebook whose listeners keep a journal: on the session factory, on one session, on one
connection, on the engine."""
from sqlalchemy import String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(50))


engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
journal = []
connections = []


@event.listens_for(engine, "connect")
def remember_connection(dbapi_connection, connection_record):
    connections.append(connection_record is not None)


@event.listens_for(SessionLocal, "before_flush")
def tidy(session, flush_context, instances):
    for obj in session.new:
        if isinstance(obj, Note):
            obj.body = obj.body.strip()
    journal.append(f"flush: {len(session.new)} new, {len(session.dirty)} changed")


@event.listens_for(SessionLocal, "after_commit")
def committed(session):
    journal.append("commit")


def add_notes(bodies):
    with SessionLocal() as session:
        session.add_all([Note(body=body) for body in bodies])
        session.commit()


def change_and_undo(new_body):
    seen = []

    def on_rollback(session):
        seen.append("rolled back")

    with SessionLocal() as session:
        event.listen(session, "after_rollback", on_rollback)
        note = session.query(Note).order_by(Note.id).first()
        note.body = new_body
        session.flush()
        session.rollback()
        listening = event.contains(session, "after_rollback", on_rollback)
        event.remove(session, "after_rollback", on_rollback)
        return seen, listening, event.contains(session, "after_rollback", on_rollback)


def count_statements():
    executed = []
    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", lambda *args: executed.append(args[2]))
        conn.execute(select(Note.id))
        conn.execute(select(Note.body).where(Note.id > 1))
    return len(executed)


def bodies():
    with SessionLocal() as session:
        return [note.body for note in session.query(Note).order_by(Note.id)]


def main():
    Base.metadata.create_all(engine)
    add_notes(["  first ", "second  "])
    print("bodies:", bodies())
    print("change and undo:", change_and_undo("changed"))
    print("after the rollback:", bodies())
    print("statements on one connection:", count_statements())
    print("journal:", journal)
    print("connected:", all(connections) and len(connections) > 0)


if __name__ == "__main__":
    main()
