"""A report object that keeps its session in self.session: load() stores query results in
instance attributes (a list from .all(), one object from session.get, one from .one()) and
the render methods read relationships of them (many-to-one in a loop, a collection, nested
two levels, comprehensions over a collection)."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(60))
    orders: Mapped[list["Order"]] = relationship(back_populates="customer", order_by="Order.id")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    price: Mapped[int]


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship(back_populates="orders")
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.id"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    quantity: Mapped[int]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


engine = create_engine("sqlite://")


class SalesReport:
    def __init__(self, session, email):
        self.session = session
        self.email = email
        self.orders = []
        self.latest = None
        self.customer = None

    def load(self):
        self.orders = self.session.query(Order).order_by(Order.id).all()
        self.latest = self.session.get(Order, 1)
        self.customer = (
            self.session.query(Customer).filter(Customer.email == self.email).one()
        )

    def render_orders(self):
        rows = []
        for o in self.orders:
            rows.append(f"order {o.id}: {o.customer.email}")
        return rows

    def render_latest(self):
        rows = [f"order {self.latest.id} has {len(self.latest.lines)} lines"]
        for line in self.latest.lines:
            rows.append(f"  {line.quantity} x {line.product.name} @ {line.product.price}")
        return rows

    def render_customer(self):
        ids = [o.id for o in self.customer.orders]
        sizes = {o.id: sum(l.quantity for l in o.lines) for o in self.customer.orders}
        names = sorted({l.product.name for o in self.customer.orders for l in o.lines})
        return [f"{self.customer.email}: orders {ids}", f"  sizes {sizes}", f"  products {names}"]


def seed():
    with Session(engine) as session:
        pen = Product(name="pen", price=2)
        ink = Product(name="ink", price=7)
        pad = Product(name="pad", price=4)
        ann = Customer(email="ann@example.com")
        ben = Customer(email="ben@example.com")
        cy = Customer(email="cy@example.com")
        session.add_all(
            [
                Order(customer=ann, lines=[OrderLine(product=pen, quantity=3),
                                           OrderLine(product=ink, quantity=1)]),
                Order(customer=ben, lines=[OrderLine(product=pad, quantity=2)]),
                Order(customer=cy, lines=[OrderLine(product=ink, quantity=4)]),
                Order(customer=ben, lines=[OrderLine(product=pen, quantity=1),
                                           OrderLine(product=pad, quantity=5)]),
                Order(customer=ann),
            ]
        )
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    # A fresh session per report, so nothing is served from an earlier identity map.
    for email in ["ben@example.com", "ann@example.com"]:
        with Session(engine) as session:
            report = SalesReport(session, email)
            report.load()
            for row in report.render_orders():
                print(row)
            for row in report.render_latest():
                print(row)
            for row in report.render_customer():
                print(row)


if __name__ == "__main__":
    main()
