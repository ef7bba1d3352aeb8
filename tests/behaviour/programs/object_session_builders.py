"""Sessions reached through the object they hold: a method building a legacy query on
`object_session(obj)` and returning it (its callers run it on the object's session), a
function returning an object's session whose caller commits on it, and a function using the
object's session for a query and handing it on. Same rows out, same commit."""
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, object_session


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    board: Mapped[int]
    rank: Mapped[int]
    title: Mapped[str]


class Finder:
    def same_board(self, task):
        session = object_session(task)
        query = session.query(Task).filter(Task.board == task.board, Task.id != task.id)
        if task.rank > 1:
            query = query.filter(Task.rank < task.rank)
        return query

    def closest(self, task):
        return self.same_board(task).order_by(Task.rank.desc()).first()

    def titles(self, task):
        return [t.title for t in self.same_board(task).order_by(Task.id).all()]


def session_of(task):
    return object_session(task)


def rename(task, title):
    task.title = title
    session_of(task).commit()


def before(task, seen):
    session = object_session(task)
    seen.append(session is not None)
    return session.query(Task).filter(Task.board == task.board, Task.id < task.id).count()


def main():
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Task(id=i, board=i % 2, rank=i, title=f"t{i}") for i in range(1, 8)])
        session.commit()
        task = session.get(Task, 5)
        finder = Finder()
        print(finder.closest(task).id, finder.titles(task))
        print(finder.closest(session.get(Task, 1)).id)
        seen = []
        print(before(task, seen), seen)
        rename(task, "renamed")
    with Session(engine) as session:
        print(session.get(Task, 5).title)


if __name__ == "__main__":
    main()
