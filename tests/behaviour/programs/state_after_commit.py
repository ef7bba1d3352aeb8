# behaviour: sqlite only: its trigger is SQLite SQL (CREATE TRIGGER ... BEGIN ... END)
"""Club ledger: what an object holds when it is read right after commit() — a reload in
the sync program. Members move between clubs (one side declared, no back_populates),
memberships in events are linked from both ends of a backref, prices are typed by the
database, a trigger and an onupdate column change rows behind the ORM, and SQL text
updates rows directly."""
from sqlalchemy import (
    Column,
    DDL,
    ForeignKey,
    Numeric,
    Table,
    create_engine,
    event,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


attendance = Table(
    "attendance",
    Base.metadata,
    Column("member_id", ForeignKey("members.id")),
    Column("event_id", ForeignKey("events.id")),
)


class Club(Base):
    __tablename__ = "clubs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    members: Mapped[list["Member"]] = relationship(order_by="Member.id", overlaps="club")

    def __repr__(self) -> str:
        return f"<Club {self.name}>"


class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    dues: Mapped[float] = mapped_column(Numeric(8, 2, asdecimal=False), default=0)
    badge: Mapped[str] = mapped_column(default="")
    revision: Mapped[int] = mapped_column(default=1, onupdate=literal_column("revision + 1"))
    club_id: Mapped[int | None] = mapped_column(ForeignKey("clubs.id"))
    club: Mapped[Club | None] = relationship(overlaps="members")
    events: Mapped[list["Event"]] = relationship(
        secondary=attendance, backref="attendees", order_by="Event.id")

    def __repr__(self) -> str:
        return f"<Member {self.name} dues={self.dues!r} badge={self.badge!r}>"


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


event.listen(Member.__table__, "after_create", DDL(
    "CREATE TRIGGER badge_on_insert AFTER INSERT ON members BEGIN "
    "UPDATE members SET badge = 'M-' || NEW.id WHERE id = NEW.id; END"))

engine = create_engine("sqlite://")


def enrol():
    with Session(engine) as session:
        chess = Club(name="Chess")
        ann = Member(name="Ann", dues=10, club=chess)
        session.add(ann)
        session.commit()
        print("enrolled", ann)
        print("chess has", [m.name for m in chess.members])


def leave_club():
    with Session(engine) as session:
        ann = session.get(Member, 1)
        chess = session.get(Club, 2)
        print("before", [m.name for m in chess.members])
        ann.club = None
        session.commit()
        print("after", [m.name for m in chess.members])


def join_by_key(club_id):
    with Session(engine) as session:
        ben = Member(name="Ben")
        session.add(ben)
        session.commit()
        print("ben", ben.club)
        ben.club_id = club_id
        session.commit()
        print("ben joined", ben.club)


def attend():
    with Session(engine) as session:
        ann = session.get(Member, 1)
        gala = Event(title="Gala")
        ann.events.append(gala)
        gala.attendees.append(ann)
        print("in memory", len(ann.events))
        session.commit()
        print("ann attends", [e.title for e in ann.events])


def raise_dues():
    with Session(engine) as session:
        ann = session.get(Member, 1)
        ann.dues = 12
        session.commit()
        print("dues", ann.dues, "revision", ann.revision)
        session.execute(text("UPDATE members SET dues = dues * 2"))
        session.commit()
        print("doubled", ann.dues)


def rejoin():
    with Session(engine) as session:
        with session.begin():
            chess = session.get(Club, 2)
            print("chess before", [m.name for m in chess.members])
            ann = session.get(Member, 1)
            ann.club_id = 2
        print("chess now", [m.name for m in chess.members])


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Club(name="Go"))
        session.commit()
    enrol()
    leave_club()
    join_by_key(1)
    attend()
    raise_dues()
    rejoin()


if __name__ == "__main__":
    main()
