"""Rows of several entities: relationships read on each element of the row."""
from sqlalchemy import select, ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Country(Base):
    __tablename__ = "countries"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"))
    country: Mapped[Country] = relationship()


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship()


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))


def report(session: Session) -> list[str]:
    out = []
    for order, customer in session.query(Order, Customer).join(Order.customer).order_by(Order.id):
        out.append(f"{order.id} {len(order.lines)} {customer.country.name}")
    return out


def report_2(session: Session) -> list[str]:
    out = []
    rows = session.execute(select(Order, Customer).join(Order.customer).order_by(Order.id))
    for order, customer in rows:
        out.append(f"{order.id} {len(order.lines)} {customer.country.name}")
    return out


engine = create_engine("sqlite://")


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        pt, br = Country(name="PT"), Country(name="BR")
        ana, ben = Customer(email="ana@x", country=pt), Customer(email="ben@x", country=br)
        session.add_all([Order(customer=ana, lines=[OrderLine(), OrderLine()]),
                         Order(customer=ben, lines=[]), Order(customer=ana, lines=[OrderLine()])])
        session.commit()
    with Session(engine) as session:
        print(report(session))
    with Session(engine) as session:
        print(report_2(session))


if __name__ == "__main__":
    main()
