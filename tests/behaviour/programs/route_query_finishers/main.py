# behaviour: sqlite only: one in-memory connection shared by TestClient's threads (StaticPool, check_same_thread)
"""FastAPI routes that build a legacy query and hand it to a finisher of the project. Migrated:
a route that awaits nothing else runs its unchanged body through run_sync; a query handed
straight to the finisher runs with it inside run_sync; both with the sync session the
finishers' queries need."""
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from models import Base, Ticket
from pages import first_title, paginate

engine = create_engine("sqlite://", poolclass=StaticPool,
                       connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine)
app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.post("/tickets")
def add_ticket(title: str, priority: int, db: Session = Depends(get_db)):
    ticket = Ticket(title=title, priority=priority)
    db.add(ticket)
    db.commit()
    return {"id": ticket.id}


@app.get("/tickets")
def list_tickets(page: int = 1, min_priority: int = 0, db: Session = Depends(get_db)):
    """Tickets at or above a priority, a page at a time."""
    if page < 1:
        page = 1  # a parameter the body assigns
    q = db.query(Ticket).filter(Ticket.priority >= min_priority).order_by(Ticket.id)
    return paginate(q, page)


@app.get("/top")
def top(db: Session = Depends(get_db)):
    return {"title": first_title(db.query(Ticket).order_by(Ticket.priority.desc()))}


@app.get("/lowest")
def lowest(db: Session = Depends(get_db)):
    db.flush()  # awaited once migrated: the query goes to the finisher through run_sync
    return {"title": first_title(db.query(Ticket).filter(Ticket.priority > 0)
                                 .order_by(Ticket.priority))}


def main():
    Base.metadata.create_all(engine)
    with TestClient(app) as client:
        for title, priority in [("crash", 5), ("typo", 1), ("slow", 3), ("docs", 0)]:
            print(client.post("/tickets", params={"title": title, "priority": priority}).json())
        print(client.get("/tickets", params={"page": 0}).json())
        print(client.get("/tickets", params={"page": 2}).json())
        print(client.get("/tickets", params={"min_priority": 3}).json())
        print(client.get("/top").json())
        print(client.get("/lowest").json())
        print(next(r.endpoint.__doc__ for r in app.routes if r.path == "/tickets"
                   and "GET" in r.methods))


if __name__ == "__main__":
    main()
