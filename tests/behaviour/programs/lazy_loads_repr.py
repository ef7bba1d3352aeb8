"""Orders with a __repr__ that reads a many-to-one relationship and a @property that reads a
collection; the loaded objects are printed (print, repr, f-string, list) in the same function."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(60))
    orders: Mapped[list["Order"]] = relationship(back_populates="customer", order_by="Order.id")

    def __repr__(self):
        return f"<Customer {self.id} {self.email}>"


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship(back_populates="orders")
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.id"
    )

    def __repr__(self):
        return f"<Order {self.id} of {self.customer.email}>"

    @property
    def total_quantity(self):
        total = sum(l.quantity for l in self.lines)
        return total


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    order: Mapped[Order] = relationship(back_populates="lines")


engine = create_engine("sqlite://")


def show_order(session, order_id):
    order = session.query(Order).filter(Order.id == order_id).one()
    print(order)
    print(repr(order))
    print(f"{order}")
    print(order.total_quantity)


def show_orders(session):
    orders = session.query(Order).order_by(Order.id).all()
    print(orders)
    for order in orders:
        print(f"{order!r}: {order.total_quantity} items")


def show_customer(session, email):
    customer = session.query(Customer).filter(Customer.email == email).one()
    print(customer)


def seed():
    with Session(engine) as session:
        ann = Customer(email="ann@example.com")
        ben = Customer(email="ben@example.com")
        session.add_all([ann, ben])
        session.add_all(
            [
                Order(customer=ann, lines=[OrderLine(sku="DUNE", quantity=2),
                                           OrderLine(sku="EMMA", quantity=1)]),
                Order(customer=ben, lines=[OrderLine(sku="ULYS", quantity=5)]),
                Order(customer=ann),
            ]
        )
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    # A fresh session per report, so nothing is served from an earlier identity map.
    with Session(engine) as session:
        show_order(session, 1)
    with Session(engine) as session:
        show_order(session, 2)
    with Session(engine) as session:
        show_orders(session)
    with Session(engine) as session:
        show_customer(session, "ben@example.com")


if __name__ == "__main__":
    main()
