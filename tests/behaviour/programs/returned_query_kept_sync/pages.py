from sqlalchemy.orm import Session

from repo import search_jobs


def render(template, context):
    return template.format(", ".join(job.title for job in context["jobs"]))


def search_page(term: str, db: Session):
    jobs = search_jobs(term, db=db)
    return render("<ul>{}</ul>", {"jobs": jobs})
