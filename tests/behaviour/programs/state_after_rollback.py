"""Warehouse stock: changes abandoned with rollback() and the objects read afterwards — in
the same session, after a failed commit, and once added to a new session."""
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker


class Base(DeclarativeBase):
    pass


class Rack(Base):
    """A rack holds items; an item's SKU is unique."""

    __tablename__ = "racks"
    id: Mapped[int] = mapped_column(primary_key=True)
    aisle: Mapped[str]
    items: Mapped[list["Item"]] = relationship(back_populates="rack", order_by="Item.id")


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(unique=True)
    count: Mapped[int]
    rack_id: Mapped[int] = mapped_column(ForeignKey("racks.id"))
    rack: Mapped[Rack] = relationship(back_populates="items")


engine = create_engine("sqlite://")
Sessions = sessionmaker(bind=engine)


def abandon_count(item_id):
    with Sessions() as session:
        item = session.get(Item, item_id)
        item.count = 999
        session.rollback()
        print("count kept", item.sku, item.count)


def duplicate_sku(item_id):
    with Sessions() as session:
        item = session.get(Item, item_id)
        item.count += 1
        clash = Item(sku="B-2", count=1, rack_id=1)
        session.add(clash)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        print("after failed commit", item.sku, item.count, clash.sku)
        print("rack", [i.sku for i in session.query(Item).filter(Item.rack_id == 1).order_by(Item.id)])


def move_later(item_id):
    with Sessions() as first:
        item = first.get(Item, item_id)
        item.count = 0
        first.rollback()
    with Sessions() as second:
        second.add(item)
        print("re-added", item.sku, item.count)


def main():
    Base.metadata.create_all(engine)
    with Sessions() as session:
        rack = Rack(aisle="north")
        session.add_all([Item(sku="A-1", count=5, rack=rack),
                         Item(sku="B-2", count=7, rack=rack)])
        session.commit()
    abandon_count(1)
    duplicate_sku(2)
    move_later(1)


if __name__ == "__main__":
    main()
