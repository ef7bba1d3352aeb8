"""Allotment gardens with classic `relationship()` declarations (no annotations, no uselist):
many-to-one ones read on query results, a self-referential one with remote_side and its
backref, and objects fetched by `session.get` whose collection members read their parent
back (`garden.beds[i].garden`), from a cold session and from one that already holds the
parent."""
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Garden(Base):
    __tablename__ = "gardens"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))
    beds = relationship("Bed", back_populates="garden", order_by="Bed.id")


class Bed(Base):
    __tablename__ = "beds"
    id = Column(Integer, primary_key=True)
    crop = Column(String(20))
    garden_id = Column(Integer, ForeignKey("gardens.id"))
    garden = relationship("Garden", back_populates="beds")
    parent_id = Column(Integer, ForeignKey("beds.id"))
    parent = relationship("Bed", remote_side=[id], backref="sub_beds")
    keeper_id = Column(Integer, ForeignKey("keepers.id"))
    keeper = relationship("Keeper", backref="beds")


class Keeper(Base):
    __tablename__ = "keepers"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))


engine = create_engine("sqlite://")


def beds_report(session):
    for bed in session.query(Bed).order_by(Bed.id).all():
        print("bed", bed.crop, "in", bed.garden.name, "kept by", bed.keeper.name,
              "under", bed.parent.crop if bed.parent else None,
              "over", sorted(sub.crop for sub in bed.sub_beds))


def garden_report(session, garden_id):
    garden = session.get(Garden, garden_id)
    for bed in garden.beds:
        print("garden", garden.name, "bed", bed.crop, "back to", bed.garden.name)


def keeper_report(session):
    for keeper in session.query(Keeper).order_by(Keeper.id):
        print("keeper", keeper.name, sorted(bed.crop for bed in keeper.beds))


def seed():
    with Session(engine) as session:
        ann, bo = Keeper(name="ann"), Keeper(name="bo")
        north = Garden(name="north")
        south = Garden(name="south")
        peas = Bed(crop="peas", garden=north, keeper=ann)
        session.add_all([
            peas,
            Bed(crop="mint", garden=north, keeper=bo, parent=peas),
            Bed(crop="sage", garden=north, keeper=ann, parent=peas),
            Bed(crop="kale", garden=south, keeper=bo),
        ])
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    with Session(engine) as session:
        beds_report(session)
    with Session(engine) as session:
        garden_report(session, 1)
    with Session(engine) as session:
        session.query(Garden).all()  # the gardens are in the identity map already
        garden_report(session, 2)
        garden_report(session, 1)
    with Session(engine) as session:
        keeper_report(session)


if __name__ == "__main__":
    main()
