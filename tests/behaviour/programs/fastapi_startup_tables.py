# behaviour: sqlite only: one in-memory connection shared by TestClient's threads (StaticPool, check_same_thread)
"""A FastAPI app whose tables are created at import (module-level create_all), driven by
TestClient: the migrated app creates them in a lifespan handler instead. The tests of
suites/fastapi_test_clients/ use it through `TestClient(app)` without `with`."""
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

engine = create_engine("sqlite://", poolclass=StaticPool,
                       connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))


Base.metadata.create_all(bind=engine)

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.post("/books")
def add_book(title: str, db: Session = Depends(get_db)):
    book = Book(title=title)
    db.add(book)
    db.commit()
    return {"id": book.id, "title": book.title}


@app.get("/books")
def list_books(db: Session = Depends(get_db)):
    return [b.title for b in db.query(Book).order_by(Book.title).all()]


def main():
    with TestClient(app) as client:
        for title in ["Dune", "Anathem", "Solaris"]:
            print(client.post("/books", params={"title": title}).json())
        print(client.get("/books").json())


if __name__ == "__main__":
    main()
