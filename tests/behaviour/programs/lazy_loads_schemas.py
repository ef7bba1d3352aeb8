"""Objects turned into pydantic schemas with from_attributes: every field the schema (and the
schemas nested in it) has is read, relationships included."""
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    quantity: Mapped[int]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(order_by=OrderLine.id)


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CustomerOut(Schema):
    email: str


class LineOut(Schema):
    quantity: int


class OrderOut(Schema):
    id: int
    customer: CustomerOut
    lines: list[LineOut]


engine = create_engine("sqlite://")


def order_out(session: Session, order_id: int) -> OrderOut:
    order = session.query(Order).filter(Order.id == order_id).one()
    return OrderOut.model_validate(order)


def all_orders(session: Session) -> list[OrderOut]:
    return [OrderOut.model_validate(o) for o in session.query(Order).order_by(Order.id)]


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        ana = Customer(email="ana@x")
        session.add_all([Order(customer=ana, lines=[OrderLine(quantity=2), OrderLine(quantity=1)]),
                         Order(customer=Customer(email="ben@x"), lines=[])])
        session.commit()
    with Session(engine) as session:
        print(order_out(session, 1).model_dump_json())
    with Session(engine) as session:
        print([o.model_dump() for o in all_orders(session)])


if __name__ == "__main__":
    main()
