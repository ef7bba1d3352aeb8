from sqlalchemy.orm import Session

from models import Job


def search_jobs(term: str, db: Session):
    jobs = db.query(Job).filter(Job.title.contains(term))
    return jobs


def count_jobs(db: Session):
    return db.query(Job).count()
