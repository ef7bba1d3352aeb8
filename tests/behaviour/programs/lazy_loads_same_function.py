"""Relationships read without loader options in the same function, in a helper two calls
away, in loops and comprehensions: the migration must add the loader options."""
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
    orders: Mapped[list["Order"]] = relationship(back_populates="customer")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship(back_populates="orders")
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order")


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    order: Mapped[Order] = relationship(back_populates="lines")
    book: Mapped[Book] = relationship()


engine = create_engine("sqlite://")


def render(order):
    titles = [line.book.title for line in order.lines]
    return f"{order.id} {order.customer.email} {titles}"


def show(session, order_id):
    order = session.query(Order).filter(Order.id == order_id).one()
    print(render(order))
    again = session.get(Order, order_id)
    print(again.customer.email)
    for o in session.query(Order).order_by(Order.id):
        print(o.customer.email)
    c = session.query(Customer).options(selectinload(Customer.orders)).first()
    print([o.id for o in c.orders], [len(o.lines) for o in c.orders])


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        b = Book(title="Dune")
        session.add(Order(customer=Customer(email="a@x"), lines=[OrderLine(book=b), OrderLine(book=b)]))
        session.commit()
    with Session(engine) as session:
        show(session, 1)


if __name__ == "__main__":
    main()
