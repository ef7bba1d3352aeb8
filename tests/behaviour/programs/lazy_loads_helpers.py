"""Bookshop invoices: relationships read in helper functions the loaded objects are passed to
(one and two calls deep, across several helpers), a helper that receives a collection, and an
object returned through a pass-through function (require -> get) whose caller reads it."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(60))
    orders: Mapped[list["Order"]] = relationship(back_populates="customer", order_by="Order.id")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
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
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    order: Mapped[Order] = relationship(back_populates="lines")
    book: Mapped[Book] = relationship()


class NotFound(Exception):
    pass


engine = create_engine("sqlite://")


# --- helpers the loaded objects are passed to ------------------------------------------------


def customer_label(order):
    return f"order {order.id} for {order.customer.email}"


def line_total(line):
    return line.quantity * line.book.price


def format_lines(lines):
    return [f"{line.quantity} x {line.book.title}" for line in lines]


def order_total(order):
    return sum(line_total(line) for line in order.lines)


def invoice_header(order):
    return "INVOICE " + customer_label(order)


def invoice_footer(order):
    return f"total {order_total(order)}"


def print_invoice(order):
    print(invoice_header(order))
    for text in format_lines(order.lines):
        print("  " + text)
    print(invoice_footer(order))


# --- a repository with a pass-through function -----------------------------------------------


def get(session, order_id):
    return session.query(Order).filter(Order.id == order_id).one_or_none()


def require(session, order_id):
    order = get(session, order_id)
    if order is None:
        raise NotFound(order_id)
    return order


# --- the reports -----------------------------------------------------------------------------


def invoice(session, order_id):
    order = session.query(Order).filter(Order.id == order_id).one()
    print_invoice(order)


def labels(session):
    orders = session.query(Order).order_by(Order.id).all()
    for order in orders:
        print(customer_label(order))


def bestsellers(session):
    order = session.query(Order).order_by(Order.id.desc()).first()
    print("last order lines:", format_lines(order.lines))


def notify(session, order_id):
    order = require(session, order_id)
    print("mail to", order.customer.email, "about order", order.id)


def notify_missing(session, order_id):
    try:
        require(session, order_id)
    except NotFound as exc:
        print("no order", exc.args[0])


def seed():
    with Session(engine) as session:
        dune = Book(title="Dune", price=12)
        emma = Book(title="Emma", price=8)
        ulysses = Book(title="Ulysses", price=15)
        ann = Customer(email="ann@example.com")
        ben = Customer(email="ben@example.com")
        session.add_all(
            [
                Order(customer=ann, lines=[OrderLine(book=dune, quantity=2),
                                           OrderLine(book=emma, quantity=1)]),
                Order(customer=ben, lines=[OrderLine(book=ulysses, quantity=1)]),
                Order(customer=ann, lines=[OrderLine(book=emma, quantity=3),
                                           OrderLine(book=ulysses, quantity=2),
                                           OrderLine(book=dune, quantity=1)]),
            ]
        )
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    # A fresh session per report, so nothing is served from an earlier identity map.
    with Session(engine) as session:
        invoice(session, 1)
    with Session(engine) as session:
        invoice(session, 3)
    with Session(engine) as session:
        labels(session)
    with Session(engine) as session:
        bestsellers(session)
    with Session(engine) as session:
        notify(session, 2)
    with Session(engine) as session:
        notify_missing(session, 42)


if __name__ == "__main__":
    main()
