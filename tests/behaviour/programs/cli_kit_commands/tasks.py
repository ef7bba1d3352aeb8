"""Commands declared through the project's toolkit module: click calls them synchronously."""

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import toolkit

engine = create_engine("sqlite://")


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


@toolkit.group()
def tasks():
    """The group callback does no I/O: each command's sync wrapper runs one event loop."""


@tasks.command()
@toolkit.argument("titles", nargs=-1)
def add(titles):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Task(title=title) for title in titles])
        session.commit()
        for title in session.scalars(select(Task.title).order_by(Task.id)):
            toolkit.echo(f"added {title}")


if __name__ == "__main__":
    # one command per run, as a shell runs it (pooled async connections stay in one loop)
    tasks(["add", "write report", "call ann"], standalone_mode=False)
