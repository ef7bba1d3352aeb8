"""Team directory: first() / one() / one_or_none() / scalar() / Query.get() and their exceptions."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    members: Mapped[list["Member"]] = relationship(back_populates="team")


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    team: Mapped[Team] = relationship(back_populates="members")


engine = create_engine("sqlite://")


def seed(session):
    red = Team(name="red")
    blue = Team(name="blue")
    session.add_all(
        [
            Member(name="ada", role="admin", team=red),
            Member(name="bo", role="dev", team=red),
            Member(name="cy", role="dev", team=blue),
            Member(name="di", role="admin", team=blue),
            Member(name="ed", role="ops", team=blue),
        ]
    )
    session.commit()


def first_with_role(session, role):
    member = session.query(Member).filter_by(role=role).order_by(Member.name).first()
    return None if member is None else member.name


def the_one_named(session, name):
    try:
        member = session.query(Member).filter(Member.name == name).one()
    except NoResultFound as exc:
        return type(exc).__name__
    return member.name


def the_only_one_with_role(session, role):
    try:
        member = session.query(Member).filter(Member.role == role).one()
    except (NoResultFound, MultipleResultsFound) as exc:
        return type(exc).__name__
    return member.name


def maybe_with_role(session, role):
    try:
        member = session.query(Member).filter_by(role=role).one_or_none()
    except MultipleResultsFound as exc:
        return type(exc).__name__
    return None if member is None else member.name


def name_of_role(session, role):
    try:
        return session.query(Member.name).filter(Member.role == role).scalar()
    except MultipleResultsFound as exc:
        return type(exc).__name__


def team_of(session, team_name):
    # The join repeats the team once per member; the legacy Query de-duplicates it.
    team = (
        session.query(Team)
        .join(Team.members)
        .filter(Team.name == team_name)
        .one()
    )
    return team.name


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        print("first admin:", first_with_role(session, "admin"))
        print("first dev:", first_with_role(session, "dev"))
        print("first intern:", first_with_role(session, "intern"))

        print("one cy:", the_one_named(session, "cy"))
        print("one zed:", the_one_named(session, "zed"))
        print("only ops:", the_only_one_with_role(session, "ops"))
        print("only dev:", the_only_one_with_role(session, "dev"))
        print("only intern:", the_only_one_with_role(session, "intern"))

        print("maybe ops:", maybe_with_role(session, "ops"))
        print("maybe intern:", maybe_with_role(session, "intern"))
        print("maybe admin:", maybe_with_role(session, "admin"))

        print("scalar ops:", name_of_role(session, "ops"))
        print("scalar intern:", name_of_role(session, "intern"))
        print("scalar admin:", name_of_role(session, "admin"))

        print("team red via join:", team_of(session, "red"))

        member = session.query(Member).get(3)
        print("get 3:", member.name, member.role)
        print("get 42:", session.query(Member).get(42))

        row = session.query(Member.name, Member.role).order_by(Member.id.desc()).first()
        print("last member row:", row.name, row.role, tuple(row))

        try:
            session.query(Team).filter(Team.name == "green").one()
        except NoResultFound as exc:
            print("green team:", type(exc).__name__)


if __name__ == "__main__":
    main()
