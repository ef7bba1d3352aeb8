from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from models import Base, Job
from pages import search_page
from repo import count_jobs, search_jobs


def autocomplete(term: str, db: Session):
    titles = []
    for job in search_jobs(term, db=db):
        titles.append(job.title)
    return titles


def main():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add_all([Job(title="python dev"), Job(title="go dev"), Job(title="python ops")])
        db.commit()
        print(count_jobs(db), autocomplete("python", db))
        print(search_page("dev", db))


if __name__ == "__main__":
    main()
