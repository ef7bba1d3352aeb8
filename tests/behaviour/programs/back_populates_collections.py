"""Collections of new objects filled in memory by the other side's back_populates before
the flush: read after commit/flush, they hold what the database holds, without a load."""

from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    heroes: Mapped[list["Hero"]] = relationship(back_populates="team")


class Hero(Base):
    __tablename__ = "heroes"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    team: Mapped[Team | None] = relationship(back_populates="heroes")


def found_team(session: Session) -> list[str]:
    team = Team(name="Preventers")
    Hero(name="Deadpond", team=team)
    session.add(team)
    session.commit()
    return [hero.name for hero in team.heroes]


def recruit(session: Session) -> list[str]:
    team = Team(name="Z-Force")
    hero = Hero(name="Rusty-Man")
    hero.team = team
    session.add(hero)
    session.flush()
    return [hero.name for hero in team.heroes]


def main() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        print("founded:", found_team(session))
        print("recruited:", recruit(session))
        session.commit()


if __name__ == "__main__":
    main()
