"""Services whose session parameter is annotated with the session factory itself
(`db_session: SessionLocal`, a common mistake for `Session`): the parameter is one of the
factory's sessions all the same."""
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))


engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


def record(db_session: SessionLocal, kind: str) -> None:
    db_session.add(Activity(kind=kind))
    db_session.commit()


def count_of(db_session: SessionLocal, kind: str) -> int:
    return db_session.query(Activity).filter(Activity.kind == kind).count()


def main():
    Base.metadata.create_all(engine)
    with SessionLocal() as db_session:
        for kind in ["login", "login", "upload"]:
            record(db_session, kind)
        print(count_of(db_session, "login"), count_of(db_session, "upload"))


if __name__ == "__main__":
    main()
