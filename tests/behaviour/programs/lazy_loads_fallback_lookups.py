"""Support threads: a lookup that tries several queries in turn, each assigning the same
variable (`found = q.first()`, then `if not found: found = q.filter(...).one_or_none()`),
and returns it; the caller reads a relationship of what came back. Every one of those
queries must load it."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60))


class Thread(Base):
    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    ticket: Mapped[Ticket | None] = relationship()


engine = create_engine("sqlite://")


def find_thread(session, channel, topic=None):
    found = None
    threads = session.query(Thread).filter(Thread.channel == channel)
    if topic is None:
        found = threads.order_by(Thread.id).first()
    if not found:
        found = threads.filter(Thread.topic == topic).one_or_none()
        if not found and threads.count() == 1:
            found = threads.one_or_none()
    return found


def describe(session, channel, topic=None):
    thread = find_thread(session, channel, topic)
    if thread is None:
        return f"{channel}/{topic}: none"
    if thread.ticket is None:
        return f"{channel}/{topic}: thread {thread.id} without a ticket"
    return f"{channel}/{topic}: thread {thread.id} on {thread.ticket.title}"


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        crash, login = Ticket(title="crash on start"), Ticket(title="login fails")
        session.add_all([
            Thread(channel="general", topic=None, ticket=crash),
            Thread(channel="general", topic="auth", ticket=login),
            Thread(channel="help", topic="auth", ticket=login),
            Thread(channel="random", topic="misc"),
        ])
        session.commit()
    for channel, topic in [("general", None), ("general", "auth"), ("help", "other"),
                           ("help", "auth"), ("random", None), ("nowhere", None)]:
        with Session(engine) as session:  # a fresh session: nothing loaded yet
            print(describe(session, channel, topic))


if __name__ == "__main__":
    main()
