from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from models import Base, Project, Ticket
from paging import first_title, paginate, urgent_titles, with_projects


def list_tickets(session: Session, page: int, urgent: bool = False):
    q = session.query(Ticket)
    if urgent:
        q = q.filter(Ticket.priority >= 3)
    q = q.order_by(Ticket.id)
    return paginate(q, page)


def newest(session: Session):
    return paginate(session.query(Ticket).filter_by(priority=0), 1, order=Ticket.id.desc())


def top(session: Session):
    return first_title(session.query(Ticket).order_by(Ticket.priority.desc()))


def labelled(session: Session):
    return with_projects(session.query(Ticket).filter(Ticket.priority > 0).order_by(Ticket.id))


def top_urgent(session: Session):
    return urgent_titles(session.query(Ticket).order_by(Ticket.id), 5)


def main():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        web, api = Project(name="web"), Project(name="api")
        session.add_all([
            Ticket(title="crash", priority=5, project=web),
            Ticket(title="typo", priority=0, project=web),
            Ticket(title="slow", priority=3, project=api),
            Ticket(title="docs", priority=0, project=api),
        ])
        session.commit()
    with Session(engine) as session:
        print(list_tickets(session, 1))
        print(list_tickets(session, 2))
        print(list_tickets(session, 1, urgent=True))
        print(newest(session))
        print(top(session))
        print(labelled(session))
        print(top_urgent(session))


if __name__ == "__main__":
    main()
