"""SQLModel tutorial-style hero registry: Session.exec(select(...)).all() / .first() / .one()."""
from typing import Optional

from sqlmodel import Field, Session, SQLModel, create_engine, select


class Team(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    headquarters: str


class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    secret_name: str
    age: Optional[int] = Field(default=None, index=True)
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")


engine = create_engine("sqlite://")


def create_heroes():
    with Session(engine) as session:
        preventers = Team(name="Preventers", headquarters="Sharp Tower")
        z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
        session.add(preventers)
        session.add(z_force)
        session.commit()
        session.refresh(preventers)
        session.refresh(z_force)

        heroes = [
            Hero(name="Deadpond", secret_name="Dive Wilson", team_id=z_force.id),
            Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, team_id=preventers.id),
            Hero(name="Spider-Boy", secret_name="Pedro Parqueador"),
            Hero(name="Tarantula", secret_name="Natalia Roman-on", age=32),
            Hero(name="Black Lion", secret_name="Trevor Challa", age=35),
            Hero(name="Dr. Weird", secret_name="Steve Weird", age=36),
            Hero(name="Captain North America", secret_name="Esteban Rogelios", age=93),
        ]
        for hero in heroes:
            session.add(hero)
        session.commit()
        session.refresh(heroes[0])
        print("created:", heroes[0].id, heroes[0].name, heroes[0].team_id)


def select_older_heroes(min_age):
    with Session(engine) as session:
        heroes = session.exec(select(Hero).where(Hero.age > min_age).order_by(Hero.age)).all()
        for hero in heroes:
            print("older:", hero.name, hero.age)


def first_hero_younger_than(max_age):
    with Session(engine) as session:
        hero = session.exec(select(Hero).where(Hero.age < max_age).order_by(Hero.age)).first()
        if hero is None:
            print("younger than", max_age, "-> nobody")
        else:
            print("younger than", max_age, "->", hero.name)


def update_hero(name, age):
    with Session(engine) as session:
        hero = session.exec(select(Hero).where(Hero.name == name)).one()
        hero.age = age
        session.add(hero)
        session.commit()
        session.refresh(hero)
        print("updated:", hero.name, hero.age)


def delete_hero(hero_id):
    with Session(engine) as session:
        hero = session.get(Hero, hero_id)
        session.delete(hero)
        session.commit()
        print("deleted:", hero.name)
        print("still there:", session.get(Hero, hero_id))


def heroes_with_teams():
    with Session(engine) as session:
        statement = select(Hero, Team).where(Hero.team_id == Team.id).order_by(Hero.id)
        for hero, team in session.exec(statement):
            print("team:", hero.name, "->", team.name)
        loners = select(Hero.name).where(Hero.team_id.is_(None)).order_by(Hero.name)
        names = session.exec(loners).all()
        print("no team:", list(names))


def main():
    SQLModel.metadata.create_all(engine)
    create_heroes()
    select_older_heroes(34)
    first_hero_younger_than(40)
    first_hero_younger_than(10)
    update_hero("Spider-Boy", 16)
    first_hero_younger_than(20)
    delete_hero(6)
    heroes_with_teams()


if __name__ == "__main__":
    main()
