"""Order desk: objects loaded, modified and committed, then their attributes and relationships
read after the commit (with a sessionmaker and with Session(engine)), without loader options."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker


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
    stock: Mapped[int]


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="new")
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


engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


def ship(order_id):
    with SessionLocal() as session:
        order = session.query(Order).filter(Order.id == order_id).one()
        order.status = "shipped"
        session.commit()
        print("shipped", order.id, order.status, "to", order.customer.email)
        for line in order.lines:
            print("  ", line.quantity, line.book.title)


def pay_all():
    with SessionLocal() as session:
        for order in session.query(Order).order_by(Order.id).all():
            order.status = "paid"
            session.commit()
            print("paid", order.id, order.customer.email, len(order.lines))


def change_email(customer_id, email):
    with Session(engine) as session:
        customer = session.query(Customer).filter(Customer.id == customer_id).one()
        customer.email = email
        session.commit()
        print("customer", customer.id, customer.email, [o.id for o in customer.orders])
        print("statuses", [o.status for o in customer.orders])


def restock(title, extra):
    with Session(engine) as session:
        line = (
            session.query(OrderLine)
            .join(OrderLine.book)
            .filter(Book.title == title)
            .order_by(OrderLine.id)
            .first()
        )
        line.book.stock += extra
        session.commit()
        print("restocked", line.book.title, line.book.stock, "for order", line.order.id,
              line.order.customer.email)


def hold(order_id):
    with Session(engine) as session:
        order = session.get(Order, order_id)
        order.status = "on hold"
        session.commit()
        print("order", order.id, order.status, [(l.id, l.book.title) for l in order.lines])


def seed():
    with SessionLocal() as session:
        dune = Book(title="Dune", stock=3)
        emma = Book(title="Emma", stock=1)
        ann = Customer(email="ann@example.com")
        ben = Customer(email="ben@example.com")
        session.add_all([dune, emma, ann, ben])
        session.add_all(
            [
                Order(customer=ann, lines=[OrderLine(book=dune, quantity=1),
                                           OrderLine(book=emma, quantity=2)]),
                Order(customer=ben, lines=[OrderLine(book=emma, quantity=1)]),
                Order(customer=ann, lines=[OrderLine(book=dune, quantity=4)]),
            ]
        )
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    ship(1)
    pay_all()
    change_email(1, "ann@example.org")
    restock("Emma", 5)
    hold(3)


if __name__ == "__main__":
    main()
