"""A script whose top-level work calls a function with a legacy query the tool cannot
convert: the function stays synchronous and the work, moved into `async def main()`, runs
it through session.run_sync (it got the AsyncSession itself before)."""
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(30))
    done: Mapped[bool] = mapped_column(default=False)


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)


def pending(session: Session) -> list[tuple[list[str], str]]:
    query = session.query(Task).filter_by(done=False).order_by(Task.id)
    names = [column["name"] for column in query.column_descriptions]
    return [(names, task.title) for task in query]


with Session(engine) as session:
    session.add_all([Task(title="write"), Task(title="test", done=True), Task(title="ship")])
    session.commit()
    for names, title in pending(session):
        print(names, title)
    print("left:", len(pending(session)))
