"""A model method that queries, called on the objects a statement variable loaded."""
import warnings

warnings.simplefilter("ignore")
from sqlalchemy import ForeignKey, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Kettle(Base):
    __tablename__ = "kettles"
    id: Mapped[int] = mapped_column(primary_key=True)
    brand: Mapped[str]

    def last_boil(self, session: Session):
        return session.scalars(
            select(Boil).where(Boil.kettle_id == self.id).order_by(Boil.id.desc())).first()


class Boil(Base):
    __tablename__ = "boils"
    id: Mapped[int] = mapped_column(primary_key=True)
    kettle_id: Mapped[int] = mapped_column(ForeignKey("kettles.id"))
    minutes: Mapped[int]


engine = create_engine("sqlite://")


def report(session: Session, brand=None):
    stmt = select(Kettle).order_by(Kettle.id)
    if brand:
        stmt = stmt.where(Kettle.brand == brand)
    return [(k.brand, k.last_boil(session).minutes) for k in session.scalars(stmt)]


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Kettle(id=1, brand="tin"), Kettle(id=2, brand="steel")])
        session.flush()  # no relationship orders the inserts
        session.add_all([Boil(kettle_id=1, minutes=3), Boil(kettle_id=1, minutes=5),
                         Boil(kettle_id=2, minutes=4)])
        session.commit()
        print(report(session), report(session, "steel"))


if __name__ == "__main__":
    main()
