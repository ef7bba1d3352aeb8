"""Shop analytics: distinct() on columns, on entities through a join, and counted."""
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine, distinct, func
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(30), nullable=False)
    purchases = relationship("Purchase", back_populates="customer")


class Purchase(Base):
    __tablename__ = "purchases"

    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customers.id"), nullable=False)
    city = Column(String(30), nullable=False)
    product = Column(String(30), nullable=False)
    amount = Column(Integer, nullable=False)
    customer = relationship("Customer", back_populates="purchases")


engine = create_engine("sqlite://")


def seed(session):
    ana = Customer(name="ana")
    bea = Customer(name="bea")
    cal = Customer(name="cal")
    dot = Customer(name="dot")
    session.add_all([ana, bea, cal, dot])
    data = [
        (ana, "Lisbon", "tea", 5),
        (ana, "Lisbon", "tea", 5),
        (ana, "Porto", "coffee", 12),
        (bea, "Porto", "coffee", 30),
        (bea, "Porto", "cake", 18),
        (cal, "Faro", "tea", 4),
        (cal, "Lisbon", "cake", 22),
    ]
    for customer, city, product, amount in data:
        session.add(Purchase(customer=customer, city=city, product=product, amount=amount))
    session.commit()


def cities(session):
    rows = session.query(Purchase.city).distinct().order_by(Purchase.city).all()
    return [row.city for row in rows]


def big_spenders(session, threshold):
    customers = (
        session.query(Customer)
        .join(Customer.purchases)
        .filter(Purchase.amount > threshold)
        .distinct()
        .order_by(Customer.name)
        .all()
    )
    return [customer.name for customer in customers]


def city_products(session):
    rows = (
        session.query(Purchase.city, Purchase.product)
        .distinct()
        .filter(Purchase.amount < 25)
        .order_by(Purchase.city, Purchase.product)
        .all()
    )
    return [(city, product) for city, product in rows]


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        print("cities:", cities(session))
        print("big spenders:", big_spenders(session, 10))
        print("nobody above 100:", big_spenders(session, 100))
        print("city/product pairs:", city_products(session))
        print("distinct products (count):", session.query(Purchase.product).distinct().count())
        print(
            "distinct cities (func):",
            session.query(func.count(distinct(Purchase.city))).scalar(),
        )
        buyers = session.query(Purchase.customer_id).distinct().count()
        print("customers who bought:", buyers)
        tea_buyers = (
            session.query(Customer.name)
            .join(Customer.purchases)
            .filter(Purchase.product == "tea")
            .distinct()
            .order_by(Customer.name)
            .all()
        )
        print("tea buyers:", [name for (name,) in tea_buyers])


if __name__ == "__main__":
    main()
