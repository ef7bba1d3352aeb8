"""Stock kept in a small database; imported by restock.py and also run on its own."""

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Part(Base):
    __tablename__ = "parts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    count: Mapped[int]


engine = create_engine("sqlite:///inventory.db")
SessionLocal = sessionmaker(bind=engine)
LOW = 3


def low_stock(session: Session) -> list[str]:
    return list(session.scalars(select(Part.name).where(Part.count < LOW).order_by(Part.name)))


def stock(session: Session) -> dict[str, int]:
    return {p.name: p.count for p in session.scalars(select(Part).order_by(Part.name))}


if __name__ == "__main__":
    print("inventory run as a program")
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with SessionLocal() as session:
        session.add_all([Part(name="bolt", count=10), Part(name="nut", count=2),
                         Part(name="gear", count=1)])
        session.commit()
        print("stock:", stock(session))
        print("low:", low_stock(session))
