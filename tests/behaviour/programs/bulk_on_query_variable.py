"""A query variable built by filters, checked with first() and then bulk-deleted or
-updated through it (`q.delete()`, `q.update({...})`): the select() keeps the filters, and
the delete()/update() statement matches its WHERE clause. One built on two paths stays a
legacy Query behind run_sync. Same rows and counts out."""
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    owner: Mapped[int]


engine = create_engine("sqlite://")


def delete_job(db: Session, job_id: int, owner: int) -> int:
    existing = db.query(Job).filter(Job.id == job_id)
    if not existing.first():
        return 0
    existing = existing.filter_by(owner=owner)
    removed = existing.delete(synchronize_session=False)
    db.commit()
    return removed


def retitle(db: Session, job_id: int, title: str) -> int:
    existing = db.query(Job).filter(Job.id == job_id)
    if existing.first() is None:
        return 0
    changed = existing.update({"title": title})
    db.commit()
    return changed


def clear(db: Session, owner=None) -> int:
    jobs = db.query(Job)
    if owner is not None:
        jobs = jobs.filter(Job.owner == owner)
    removed = jobs.delete()
    db.commit()
    return removed


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add_all([Job(title="a", owner=1), Job(title="b", owner=2), Job(title="c", owner=2)])
        db.commit()
        print(delete_job(db, 1, 2), delete_job(db, 1, 1), delete_job(db, 9, 1))
        print(retitle(db, 2, "bb"), retitle(db, 9, "x"))
        print(db.scalars(select(Job.title).order_by(Job.id)).all())
        print(clear(db, 3), clear(db, 2), clear(db))


if __name__ == "__main__":
    main()
