"""An event listener on session.connection(): statements counted the same after migration."""
from sqlalchemy import String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(20))


engine = create_engine("sqlite://")


def count_statements():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Note(text="a"))
        session.commit()
        seen = []

        @event.listens_for(session.connection(), "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement.split()[0])

        session.scalars(select(Note)).all()
        session.get(Note, 1)
        print(seen)


if __name__ == "__main__":
    count_statements()
