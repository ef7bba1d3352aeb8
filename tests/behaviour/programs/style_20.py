"""Task tracker in 2.0 style: select/update/delete/insert via execute, scalars, scalar."""
from sqlalchemy import String, create_engine, delete, func, insert, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    priority: Mapped[int]
    done: Mapped[bool] = mapped_column(default=False)
    assignee: Mapped[str | None] = mapped_column(String(20))


engine = create_engine("sqlite://")


def seed(session: Session) -> None:
    session.execute(
        insert(Task),
        [
            {"title": "write docs", "priority": 2, "assignee": "kai"},
            {"title": "fix login bug", "priority": 1, "assignee": "lea"},
            {"title": "triage issues", "priority": 3, "assignee": None},
            {"title": "release 1.2", "priority": 1, "assignee": "kai"},
            {"title": "update deps", "priority": 3, "assignee": "lea"},
        ],
    )
    session.commit()


def open_tasks(session: Session) -> list[str]:
    stmt = select(Task).where(Task.done.is_(False)).order_by(Task.priority, Task.id)
    tasks = session.execute(stmt).scalars().all()
    return [task.title for task in tasks]


def tasks_for(session: Session, assignee: str) -> list[str]:
    stmt = select(Task.title).where(Task.assignee == assignee).order_by(Task.id)
    return list(session.scalars(stmt))


def count_open(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Task).where(Task.done.is_(False)))


def complete_urgent(session: Session) -> int:
    result = session.execute(update(Task).where(Task.priority == 1).values(done=True))
    session.commit()
    return result.rowcount


def purge_done(session: Session) -> int:
    result = session.execute(delete(Task).where(Task.done.is_(True)))
    session.commit()
    return result.rowcount


def main() -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        print("open:", open_tasks(session))
        print("kai:", tasks_for(session, "kai"))
        print("open count:", count_open(session))

        task = session.execute(select(Task).where(Task.title == "write docs")).scalar_one()
        print("scalar_one:", task.id, task.title, task.priority)

        first_row = session.execute(
            select(Task.title, Task.assignee).order_by(Task.priority.desc(), Task.id)
        ).first()
        print("first row:", first_row.title, first_row.assignee)

        unassigned = session.scalars(select(Task).where(Task.assignee.is_(None))).first()
        print("unassigned:", unassigned.title)

        rows = session.execute(
            select(Task.assignee, func.count(Task.id))
            .where(Task.assignee.is_not(None))
            .group_by(Task.assignee)
            .order_by(Task.assignee)
        ).all()
        print("per assignee:", [(assignee, n) for assignee, n in rows])

        print("completed:", complete_urgent(session))
        print("open after completing:", open_tasks(session))
        print("missing:", session.scalars(select(Task).where(Task.id == 99)).one_or_none())
        print("purged:", purge_done(session))
        print("open count:", count_open(session))

    with engine.connect() as conn:
        remaining = conn.execute(select(Task.id, Task.title).order_by(Task.id)).all()
        print("remaining:", [(row.id, row.title) for row in remaining])
        total = conn.execute(text("SELECT count(*) FROM tasks")).scalar_one()
        print("raw count:", total)

    with engine.begin() as conn:
        conn.execute(update(Task).where(Task.assignee.is_(None)).values(assignee="max"))
    with Session(engine) as session:
        print("max:", tasks_for(session, "max"))


if __name__ == "__main__":
    main()
