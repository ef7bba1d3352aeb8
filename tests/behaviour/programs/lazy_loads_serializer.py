"""A serializer mixin reading every relationship by name (getattr over the mapper's
relationships), called on new and loaded objects, through a scoped_session registry."""
from sqlalchemy import ForeignKey, create_engine, select
from sqlalchemy.orm import (DeclarativeBase, Mapped, mapped_column, relationship,
                            scoped_session, sessionmaker)


class Base(DeclarativeBase):
    pass


class Exportable:
    def export(self, deep=False):
        data = {c.key: getattr(self, c.key) for c in self.__mapper__.column_attrs}
        if deep:
            for rel in self.__mapper__.relationships:
                value = getattr(self, rel.key)
                if rel.uselist:
                    data[rel.key] = [item.export() for item in value]
                else:
                    data[rel.key] = value.export() if value is not None else None
        return data


class Shelf(Exportable, Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str]
    jars: Mapped[list["Jar"]] = relationship(back_populates="shelf")


class Jar(Exportable, Base):
    __tablename__ = "jars"
    id: Mapped[int] = mapped_column(primary_key=True)
    spice: Mapped[str]
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"))
    shelf: Mapped[Shelf] = relationship(back_populates="jars")


engine = create_engine("sqlite://")
Session = scoped_session(sessionmaker(bind=engine))


def main():
    Base.metadata.create_all(engine)
    top = Shelf(id=1, label="top")
    Session.add(top)
    Session.flush()
    Session.add_all([Jar(id=1, spice="cumin", shelf=top), Jar(id=2, spice="mace", shelf=top)])
    Session.flush()
    print(top.export())
    print(top.export(deep=True))
    Session.commit()
    jar = Session.scalars(select(Jar).where(Jar.spice == "mace")).one()
    print(jar.export(deep=True))
    print([j.export() for j in Session.scalars(select(Jar).order_by(Jar.id))])
    Session.remove()


if __name__ == "__main__":
    main()
