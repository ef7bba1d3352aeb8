"""Query forms beyond filter().all(): subquery, exists, statement, indexing, slicing, builtins
consuming a query, yield_per streaming, value/values, with_parent, enable_eagerloads, autoflush."""
import warnings

warnings.simplefilter("ignore")
from sqlalchemy import create_engine, ForeignKey, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, Session


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    addresses: Mapped[list["Address"]] = relationship(back_populates="user")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str]
    user: Mapped[User] = relationship(back_populates="addresses")


engine = create_engine("sqlite://")


def report(session):
    sub = session.query(Address.user_id, func.count(Address.id).label("n")).group_by(Address.user_id).subquery()
    print("sub", session.query(User.name, sub.c.n).join(sub, sub.c.user_id == User.id).order_by(User.id).all())
    has = session.query(session.query(User).filter(User.name == "b").exists()).scalar()
    print("exists", has)
    stmt = session.query(User.id).filter(User.name != "a").statement
    print("statement", sorted(session.execute(stmt).scalars().all()))
    print("index", session.query(User).order_by(User.id)[1].name)
    print("slice", [u.name for u in session.query(User).order_by(User.id)[1:3]])
    try:
        session.query(User).order_by(User.id)[10]
    except IndexError as e:
        print("IndexError")
    print("sorted", [u.name for u in sorted(session.query(User), key=lambda u: u.name, reverse=True)])
    print("max", max(session.query(User), key=lambda u: u.id).name)
    print("any", any(session.query(User).filter(User.name == "zz")))
    for u in session.query(User).order_by(User.id).yield_per(2):
        print("streamed", u.name)
    print("value", session.query(User).filter(User.id == 2).value(User.name))
    print("values", list(session.query(User).order_by(User.id).values(User.id, User.name)))
    u1 = session.get(User, 1)
    print("with_parent", [a.email for a in session.query(Address).with_parent(u1, User.addresses).order_by(Address.id)])
    print("eager", [u.name for u in session.query(User).enable_eagerloads(False).order_by(User.id).all()])
    print("autoflush", session.query(User).autoflush(False).count())
    q = session.query(User).order_by(User.id)
    print("var index", q[0].name, len(q[0:2]))


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([User(name="a", addresses=[Address(email="a1"), Address(email="a2")]), User(name="b"), User(name="c", addresses=[Address(email="c1")])])
        session.commit()
        report(session)


if __name__ == "__main__":
    main()
