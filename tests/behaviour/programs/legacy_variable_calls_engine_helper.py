"""A get-or-create whose query cannot be converted (filter_by(**fields)), calling a creator
made async by the engine I/O of a helper it calls, not by a session: the get-or-create cannot
stay synchronous, so its query variable runs behind run_sync."""
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine("sqlite://")


class Base(DeclarativeBase):
    pass


class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def init_schema(*, engine, org):
    with engine.begin() as conn:
        conn.exec_driver_sql("select 1")
    with Session(engine) as session:
        session.add(org)
        session.commit()
        session.refresh(org)
    return org


def create(db_session, name):
    org = Org(name=name)
    return init_schema(engine=engine, org=org)


def get_or_create(*, db_session, org_id=None, **fields):
    if org_id:
        q = db_session.query(Org).filter(Org.id == org_id)
    else:
        q = db_session.query(Org).filter_by(**fields)
    found = q.first()
    if found:
        return found
    return create(db_session, fields["name"])


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        print(get_or_create(db_session=session, name="a").name)
        print(get_or_create(db_session=session, name="a").id)


if __name__ == "__main__":
    main()
