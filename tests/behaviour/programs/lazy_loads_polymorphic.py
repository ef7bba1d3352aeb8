"""Workshop staff in one class hierarchy: carpenters in a table of their own (joined-table
inheritance), foremen in the base table (single-table inheritance). Columns only a subclass
maps are read on a polymorphic collection (`workshop.staff`), together with the way back to
the workshop, and on the objects of a query of the base class."""
from sqlalchemy import ForeignKey, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Workshop(Base):
    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    town: Mapped[str] = mapped_column(String(20))
    staff: Mapped[list["Worker"]] = relationship(back_populates="workshop",
                                                 order_by="Worker.id")


class Worker(Base):
    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"))
    workshop: Mapped[Workshop] = relationship(back_populates="staff")
    __mapper_args__ = {"polymorphic_on": "role", "polymorphic_identity": "worker"}


class Carpenter(Worker):
    __tablename__ = "carpenters"

    id: Mapped[int] = mapped_column(ForeignKey("workers.id"), primary_key=True)
    wood: Mapped[str] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_identity": "carpenter"}


class Foreman(Worker):
    crew_size: Mapped[int | None] = mapped_column(nullable=True)
    __mapper_args__ = {"polymorphic_identity": "foreman"}


engine = create_engine("sqlite://")


def describe(worker):
    if isinstance(worker, Carpenter):
        return f"{worker.name} works {worker.wood}"
    if isinstance(worker, Foreman):
        return f"{worker.name} leads {worker.crew_size}"
    return worker.name


def staff_report(session):
    for shop in session.scalars(select(Workshop).order_by(Workshop.id)).all():
        print("shop", shop.town, [describe(worker) for worker in shop.staff])


def staff_with_way_back(session):
    shop = session.scalars(select(Workshop).where(Workshop.town == "oslo")).one()
    for worker in shop.staff:
        print("back", worker.workshop.town, describe(worker))


def everyone(session):
    for worker in session.scalars(select(Worker).order_by(Worker.id.desc())):
        print("everyone", describe(worker))


def seed():
    with Session(engine) as session:
        session.add_all([
            Workshop(town="oslo", staff=[Carpenter(name="ada", wood="oak"),
                                         Foreman(name="bjorn", crew_size=4),
                                         Worker(name="cai")]),
            Workshop(town="bergen", staff=[Carpenter(name="dag", wood="pine")]),
        ])
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    with Session(engine) as session:
        staff_report(session)
    with Session(engine) as session:
        staff_with_way_back(session)
    with Session(engine) as session:
        everyone(session)


if __name__ == "__main__":
    main()
