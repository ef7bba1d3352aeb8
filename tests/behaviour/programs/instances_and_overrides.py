"""Calls the tool must find to await: a module-level repository instance, a typed attribute
holding another service, an override calling super(), a base-typed receiver, and the
engine and session methods reached through objects."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Warehouse(Base):
    __tablename__ = "warehouses"
    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(30))


class Pallet(Base):
    __tablename__ = "pallets"
    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    kilos: Mapped[int]


engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


class Store:
    """A generic repository; one module-level instance per model."""

    def __init__(self, model) -> None:
        self.model = model

    def by_id(self, db: Session, ident: int):
        return db.get(self.model, ident)

    def add(self, db: Session, **values):
        obj = self.model(**values)
        db.add(obj)
        db.flush()
        return obj


class PalletStore(Store):
    def add(self, db: Session, **values):
        values.setdefault("kilos", 100)
        return super().add(db, **values)

    def heaviest(self, db: Session) -> Pallet | None:
        return db.query(Pallet).order_by(Pallet.kilos.desc()).first()


warehouses = Store(Warehouse)
pallets = PalletStore(Pallet)


class Inventory:
    store: Store  # a base-typed attribute: the calls reach PalletStore's override

    def __init__(self, store: Store, db: Session) -> None:
        self.store = store
        self.db = db

    def stock(self, warehouse_id: int, *weights: int) -> list[int]:
        return [self.store.add(self.db, warehouse_id=warehouse_id, kilos=w).id for w in weights]


class Holder:
    def __init__(self) -> None:
        self.session = SessionLocal()

    def close(self) -> None:
        self.session.close()


def main() -> None:
    Base.metadata.create_all(engine)
    holder = Holder()
    db = holder.session
    home = warehouses.add(db, city="Porto")
    pallets.add(db, warehouse_id=home.id)
    inventory = Inventory(pallets, db)
    print("stocked", inventory.stock(home.id, 250, 40))
    db.commit()
    print("warehouse", warehouses.by_id(db, home.id).city)
    print("heaviest", pallets.heaviest(db).kilos)
    holder.close()
    engine.dispose()


if __name__ == "__main__":
    main()
