"""Services reached through properties: a `@property` and a `functools.cached_property`
returning a repository (one declared by a base class), a chain of two properties, and a
same-named method of a plain class that must stay a plain call."""
from functools import cached_property

from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Kite(Base):
    __tablename__ = "kites"
    id: Mapped[int] = mapped_column(primary_key=True)
    colour: Mapped[str] = mapped_column(String(20))


engine = create_engine("sqlite://")


class Kites:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, ident: int):
        return self.session.get(Kite, ident)

    def colours(self) -> list[str]:
        return list(self.session.scalars(select(Kite.colour).order_by(Kite.id)))


class Labels:
    def __init__(self) -> None:
        self.values = {"shop": "Windy Corner"}

    def get(self, key: str) -> str:
        return self.values[key]


class Namespace:
    @cached_property
    def labels(self) -> Labels:
        return Labels()


class Service:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def kites(self) -> Kites:
        return Kites(self.session)

    @cached_property
    def names(self) -> Namespace:
        return Namespace()


class Shop(Service):
    def describe(self, ident: int) -> str:
        kite = self.kites.get(ident)
        return f"{self.names.labels.get('shop')}: kite {kite.id} is {kite.colour}"

    def stock(self) -> list[str]:
        return self.kites.colours()


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Kite(colour="red"), Kite(colour="teal")])
        session.commit()
    with Session(engine) as session:
        shop = Shop(session)
        print(shop.describe(2))
        print("stock:", shop.stock())


if __name__ == "__main__":
    main()
