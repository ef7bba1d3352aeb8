"""A decorator whose wrapper hands the decorated function to a helper that runs it once per
tenant, each in its own session: the helper and the tasks share a colour, so the helper
awaits each task (an un-awaited task would lose its write)."""

from functools import wraps

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine("sqlite://")


class Base(DeclarativeBase):
    pass


class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str]
    page: Mapped[str]


TENANTS = ("north", "south")


def _for_every_tenant(task, *args, **kwargs):
    for tenant in TENANTS:
        with Session(engine) as session:
            try:
                task(*args, session=session, tenant=tenant, **kwargs)
                session.commit()
            except ValueError as error:
                print("task failed for", tenant, "-", error)
                session.rollback()


def per_tenant(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        _for_every_tenant(func, *args, **kwargs)

    return wrapper


@per_tenant
def record(page, session: Session, tenant: str):
    if tenant == "south" and page == "/admin":
        raise ValueError("no admin page in the south")
    session.add(Visit(tenant=tenant, page=page))


def visits():
    with Session(engine) as session:
        return [(v.tenant, v.page) for v in session.scalars(select(Visit).order_by(Visit.id))]


def main():
    Base.metadata.create_all(engine)
    record("/home")
    record("/admin")
    print(visits())


if __name__ == "__main__":
    main()
