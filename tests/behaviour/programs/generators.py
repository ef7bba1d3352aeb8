"""Warehouse stock report: generators that query, consumed by list(), sorted(), sum(), next(),
unpacking and `yield from`; a script takes its session with `db = next(get_db())`."""
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Bin(Base):
    __tablename__ = "bins"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20))
    aisle: Mapped[str] = mapped_column(String(5))
    quantity: Mapped[int]


engine = create_engine("sqlite://")
SessionLocal = sessionmaker(engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        print("session closed")
        db.close()


def stock_in(session: Session, aisle: str):
    for bin_ in session.query(Bin).filter(Bin.aisle == aisle).order_by(Bin.id):
        yield bin_


def quantities(session: Session):
    for bin_ in session.query(Bin).order_by(Bin.id):
        yield bin_.quantity


def every_aisle(session: Session):
    yield from stock_in(session, "A")
    yield from stock_in(session, "B")


def report(session: Session) -> None:
    aisle_a = list(stock_in(session, "A"))
    print("aisle A:", [b.sku for b in aisle_a])
    by_sku = sorted(stock_in(session, "B"), key=lambda b: b.sku)
    print("aisle B by sku:", [b.sku for b in by_sku])
    print("total units:", sum(quantities(session)))
    print("units in A:", sum(b.quantity for b in stock_in(session, "A")))
    print("largest bin:", max(quantities(session)))
    print("any empty:", any(q == 0 for q in quantities(session)))
    first = next(stock_in(session, "B"))
    print("first in B:", first.sku)
    nothing = next(stock_in(session, "Z"), None)
    print("first in Z:", nothing)
    left, right = stock_in(session, "B")
    print("aisle B pair:", left.sku, right.sku)
    print("all skus:", [b.sku for b in every_aisle(session)])
    print("distinct aisles:", sorted({b.aisle for b in every_aisle(session)}))


def main() -> None:
    Base.metadata.create_all(engine)
    db = next(get_db())
    db.add_all([
        Bin(sku="bolt-m6", aisle="A", quantity=120),
        Bin(sku="nut-m6", aisle="A", quantity=0),
        Bin(sku="washer", aisle="B", quantity=75),
        Bin(sku="anchor", aisle="B", quantity=30),
    ])
    db.commit()
    print("stocked")
    report(db)
    db.close()


if __name__ == "__main__":
    main()
