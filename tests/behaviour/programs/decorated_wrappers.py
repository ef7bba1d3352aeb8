"""Decorators whose wrappers run the decorated function: a wrapper that loads a row first, one
that reports when the call is over, and a factory with an argument (`@attempts(2)`)."""

from functools import wraps

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine("sqlite://")


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    stars: Mapped[int] = mapped_column(default=0)


def as_admin(func):
    @wraps(func)
    def inner(*args, **kwargs):
        with Session(engine) as session:
            admin = session.scalars(select(Member).where(Member.name == "admin")).one()
        return func(admin.name, *args, **kwargs)

    return inner


def announced(func):
    @wraps(func)
    def inner(*args, **kwargs):
        print("start", func.__name__)
        try:
            return func(*args, **kwargs)
        finally:
            print("end", func.__name__)

    return inner


def attempts(count):
    def decorate(func):
        def inner(*args, **kwargs):
            for number in range(1, count):
                try:
                    return func(*args, **kwargs)
                except LookupError as error:
                    print("attempt", number, "failed:", error)
            return func(*args, **kwargs)

        return inner

    return decorate


@as_admin
def award(by, name, stars):
    with Session(engine) as session:
        member = session.scalars(select(Member).where(Member.name == name)).one()
        member.stars += stars
        session.commit()
    print(by, "awarded", stars, "to", name)


@announced
def stars_of(name):
    with Session(engine) as session:
        stars = session.scalars(select(Member.stars).where(Member.name == name)).one()
    print("looked up", name)
    return stars


tries = []


@attempts(2)
def flaky_count():
    tries.append(1)
    if len(tries) == 1:
        raise LookupError("not yet")
    with Session(engine) as session:
        return len(session.scalars(select(Member)).all())


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Member(name="admin"), Member(name="ann")])
        session.commit()
    award("ann", 3)
    award("ann", 2)
    print("ann has", stars_of("ann"))
    print("members:", flaky_count())


if __name__ == "__main__":
    main()
