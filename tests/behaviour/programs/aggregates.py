"""Order statistics: func.count / sum / max / avg, group_by + having, and Query.scalar()."""
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine, func
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    country = Column(String(2), nullable=False)


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customers.id"), nullable=False)
    amount = Column(Integer, nullable=False)  # cents
    status = Column(String(10), nullable=False)


engine = create_engine("sqlite://")


def seed(session):
    session.add_all(
        [
            Customer(id=1, name="alice", country="DE"),
            Customer(id=2, name="bob", country="FR"),
            Customer(id=3, name="carol", country="DE"),
            Customer(id=4, name="dan", country="US"),
        ]
    )
    session.flush()
    orders = [
        (1, 1200, "paid"),
        (1, 800, "paid"),
        (1, 150, "refunded"),
        (2, 4000, "paid"),
        (3, 300, "open"),
        (3, 700, "paid"),
        (3, 2500, "paid"),
        (4, 90, "open"),
    ]
    for customer_id, amount, status in orders:
        session.add(Order(customer_id=customer_id, amount=amount, status=status))
    session.commit()


def totals_per_customer(session, min_orders):
    return (
        session.query(Customer.name, func.count(Order.id), func.sum(Order.amount))
        .join(Order, Order.customer_id == Customer.id)
        .group_by(Customer.id, Customer.name)
        .having(func.count(Order.id) >= min_orders)
        .order_by(Customer.name)
        .all()
    )


def revenue_by_country(session):
    return (
        session.query(Customer.country, func.sum(Order.amount).label("revenue"))
        .join(Order, Order.customer_id == Customer.id)
        .filter(Order.status == "paid")
        .group_by(Customer.country)
        .order_by(func.sum(Order.amount).desc())
        .all()
    )


def customer_name(session, customer_id):
    return session.query(Customer.name).filter(Customer.id == customer_id).scalar()


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        print("orders:", session.query(func.count(Order.id)).scalar())
        print("total:", session.query(func.sum(Order.amount)).scalar())
        print(
            "largest paid:",
            session.query(func.max(Order.amount)).filter(Order.status == "paid").scalar(),
        )
        average = session.query(func.avg(Order.amount)).filter(Order.status == "paid").scalar()
        print("average paid:", round(average, 2))
        print(
            "sum of cancelled:",
            session.query(func.sum(Order.amount)).filter(Order.status == "cancelled").scalar(),
        )
        print("customer 2:", customer_name(session, 2))
        print("customer 99:", customer_name(session, 99))

        by_status = (
            session.query(Order.status, func.count(Order.id))
            .group_by(Order.status)
            .order_by(Order.status)
            .all()
        )
        for status, count in by_status:
            print("status", status, count)

        for name, count, total in totals_per_customer(session, 2):
            print("regular", name, count, total)

        for row in revenue_by_country(session):
            print("revenue", row.country, row.revenue)


if __name__ == "__main__":
    main()
