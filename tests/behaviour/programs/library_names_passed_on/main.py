"""Set-up code that builds its own session factory with the sessionmaker the database
module passes on (`from database import sessionmaker`)."""
from database import Base, Team, engine, sessionmaker


def ensure_default_team():
    factory = sessionmaker(bind=engine)
    session = factory()
    team = session.query(Team).filter(Team.name == "default").one_or_none()
    if team is None:
        session.add(Team(name="default"))
        session.commit()
        created = True
    else:
        created = False
    session.close()
    return created


def main():
    Base.metadata.create_all(engine)
    print(ensure_default_team(), ensure_default_team())
    with sessionmaker(bind=engine)() as session:
        print([t.name for t in session.query(Team).order_by(Team.id)])


if __name__ == "__main__":
    main()
