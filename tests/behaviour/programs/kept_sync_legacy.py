"""A function whose legacy query the tool cannot convert stays synchronous; its migrated
callers run it through session.run_sync and get the same results."""
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


engine = create_engine("sqlite://")


def stats(session: Session, min_id: int) -> tuple[int, list[str]]:
    q = session.query(User).filter(User.id >= min_id)
    total = q.count()
    names = [u.name for u in q.order_by(User.name).all()]
    return total, names


def report(session: Session) -> None:
    session.add_all([User(name="c"), User(name="a"), User(name="b")])
    session.flush()
    print("stats", stats(session, 2))


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        report(session)
        session.commit()


if __name__ == "__main__":
    main()
