"""Hero registry on SQLModel: objects refreshed after commit (the tutorials' pattern) and
then read through their relationships; a hero leaves a team whose heroes list has no
back_populates, and the team is read after the commit."""
from typing import Optional

from sqlmodel import Field, Relationship, Session, SQLModel, create_engine, select


class Team(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    heroes: list["Hero"] = Relationship(
        sa_relationship_kwargs={"order_by": "Hero.id", "overlaps": "team"})


class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    power: float = 1.0
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    team: Optional[Team] = Relationship(sa_relationship_kwargs={"overlaps": "heroes"})


engine = create_engine("sqlite://")


def create():
    with Session(engine) as session:
        team = Team(name="Preventers")
        hero = Hero(name="Rusty-Man", power=4, team=team)
        session.add(hero)
        session.commit()
        session.refresh(hero)
        print("created", hero.name, hero.power, hero.team.name)
        session.refresh(team)
        print("team", team.name, [h.name for h in team.heroes])


def dismiss(hero_id):
    with Session(engine) as session:
        hero = session.get(Hero, hero_id)
        team = session.exec(select(Team).where(Team.name == "Preventers")).one()
        print("members", [h.name for h in team.heroes])
        hero.team = None
        session.add(hero)
        session.commit()
        print("members after", [h.name for h in team.heroes])


def promote(hero_id):
    with Session(engine) as session:
        hero = session.get(Hero, hero_id)
        hero.power = 9
        session.add(hero)
        session.commit()
        session.refresh(hero)
        print("promoted", hero.name, hero.power, hero.team)


def main():
    SQLModel.metadata.create_all(engine)
    create()
    dismiss(1)
    promote(1)


if __name__ == "__main__":
    main()
