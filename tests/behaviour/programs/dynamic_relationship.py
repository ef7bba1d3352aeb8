"""lazy="dynamic" relationships read after a query: count(), filter().all(), a for loop."""
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    notes = relationship("Note", lazy="dynamic", order_by="Note.id")


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))


engine = create_engine("sqlite://")


def report(session):
    customer = session.query(Customer).first()
    print("count", customer.notes.count())
    print("filtered", [n.text for n in customer.notes.filter(Note.text != "b").all()])
    print("iterated", [n.text for n in customer.notes.filter(Note.text != "a")])
    print("summed", sum(len(n.text) for n in customer.notes.order_by(Note.id.desc())))
    for note in customer.notes:
        print("note", note.text)


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Customer(notes=[Note(text="a"), Note(text="b"), Note(text="c")]))
        session.commit()
        report(session)


if __name__ == "__main__":
    main()
