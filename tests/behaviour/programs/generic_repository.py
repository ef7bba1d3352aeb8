"""A generic repository over `self.model` (annotated `type[ModelType]`, a TypeVar bound to
the declarative base), one subclass per model and module-level instances: its queries
become select()s of whichever class the instance holds."""
from typing import Any, Generic, Optional, Type, TypeVar

from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(50))


class Boat(Base):
    __tablename__ = "boats"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))


ModelType = TypeVar("ModelType", bound=Base)


class Repository(Generic[ModelType]):
    def __init__(self, model: Type[ModelType]):
        self.model = model

    def get(self, db: Session, id: Any) -> Optional[ModelType]:
        return db.query(self.model).filter(self.model.id == id).first()

    def get_multi(self, db: Session, *, skip: int = 0, limit: int = 100) -> list[ModelType]:
        return db.query(self.model).order_by(self.model.id).offset(skip).limit(limit).all()

    def count(self, db: Session) -> int:
        return db.query(self.model).count()

    def remove(self, db: Session, *, id: int) -> ModelType:
        obj = db.query(self.model).get(id)
        db.delete(obj)
        db.commit()
        return obj


class BoatRepository(Repository[Boat]):
    def by_owner(self, db: Session, *, owner_id: int) -> list[Boat]:
        return db.query(self.model).filter(Boat.owner_id == owner_id).order_by(Boat.name).all()


owners = Repository(Owner)
boats = BoatRepository(Boat)
engine = create_engine("sqlite://")


def main() -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add_all([Owner(id=1, email="ann@x"), Owner(id=2, email="bo@x")])
        db.flush()  # (no relationship() orders the inserts)
        db.add_all([Boat(name="Wave", owner_id=1), Boat(name="Gull", owner_id=1),
                    Boat(name="Tern", owner_id=2)])
        db.commit()
    with Session(engine) as db:
        print("owner 2:", owners.get(db, 2).email)
        print("no owner 9:", owners.get(db, 9))
        print("boats:", [b.name for b in boats.get_multi(db, skip=1, limit=5)])
        print("ann's:", [b.name for b in boats.by_owner(db, owner_id=1)])
        print("removed:", boats.remove(db, id=3).name, "left:", boats.count(db))


if __name__ == "__main__":
    main()
