"""A repository returning a model through two methods, and a model method reading its
relationship: the read in the method decides the loader option."""
from sqlalchemy import ForeignKey, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str]
    batches: Mapped[list["Batch"]] = relationship()

    def available(self) -> int:
        return sum(b.qty for b in self.batches)


class Batch(Base):
    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int]


class Repo:
    def __init__(self, session: Session):
        self.session = session

    def get(self, sku):
        return self._get(sku)

    def _get(self, sku):
        return self.session.query(Product).filter_by(sku=sku).first()


def stock(session: Session, sku: str) -> int:
    repo = Repo(session)
    product = repo.get(sku)
    return product.available()


def main():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Product(id=1, sku="chair", batches=[Batch(id=1, qty=3), Batch(id=2, qty=4)]))
        session.commit()
    with Session(engine) as session:
        print(stock(session, "chair"))


if __name__ == "__main__":
    main()
