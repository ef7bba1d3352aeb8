"""SQLModel hiking club: statements kept in a variable and run with `session.exec(...)`, a
result kept in a variable before `.first()`/`.all()`, and `session.get` on a team whose
members read their team back; the many-to-one side is declared as `Optional["Club"]` with
`Relationship()` only; a repository returning `list(session.exec(...))`."""
from typing import List, Optional

from sqlmodel import Field, Relationship, Session, SQLModel, create_engine, select


class Club(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    hikers: List["Hiker"] = Relationship(back_populates="club")


class Hiker(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    club_id: Optional[int] = Field(default=None, foreign_key="club.id")
    club: Optional[Club] = Relationship(back_populates="hikers")


engine = create_engine("sqlite://")


def hikers_by_name(session):
    statement = select(Hiker).where(Hiker.name != "nobody").order_by(Hiker.name)
    for hiker in session.exec(statement):
        print("hiker", hiker.name, "of", hiker.club.name)


def first_club(session):
    result = session.exec(select(Club).order_by(Club.id))
    club = result.first()
    print("first club", club.name, sorted(h.name for h in club.hikers))


def all_hikers(session):
    statement = select(Hiker).order_by(Hiker.id)
    hikers = session.exec(statement).all()
    print("all", [(h.name, h.club.name) for h in hikers])


def club_by_id(session, club_id):
    club = session.get(Club, club_id)
    for hiker in club.hikers:
        print("member", hiker.name, "back to", hiker.club.name)


class HikerRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def in_club(self, club_id: int) -> list[Hiker]:
        return list(self.session.exec(select(Hiker).where(Hiker.club_id == club_id)
                                      .order_by(Hiker.name)))


def repo_hikers(session):
    for hiker in HikerRepo(session).in_club(1):
        print("repo", hiker.name, "of", hiker.club.name)


def main():
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        peaks = Club(name="peaks")
        vales = Club(name="vales")
        session.add_all([Hiker(name="uma", club=peaks), Hiker(name="ike", club=vales),
                         Hiker(name="eve", club=peaks)])
        session.commit()
    with Session(engine) as session:
        hikers_by_name(session)
    with Session(engine) as session:
        first_club(session)
    with Session(engine) as session:
        all_hikers(session)
    with Session(engine) as session:
        club_by_id(session, 1)
    with Session(engine) as session:
        repo_hikers(session)


if __name__ == "__main__":
    main()
