"""SQL strings as SQLAlchemy 1.4 ran them: text() on a session, the driver's SQL on a
connection."""
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine("sqlite://")
LABELS = "SELECT 'room :101' AS label"
BY_NAME = "SELECT name FROM people WHERE name != :skip ORDER BY name"


def setup():
    with engine.begin() as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO people (name) VALUES (?)", [("ada",), ("bob",), ("eve",)])


def labels():
    with engine.connect() as conn:
        return [row.label for row in conn.execute(LABELS)]


def names(session: Session):
    return [row.name for row in session.execute(BY_NAME, {"skip": "bob"})]


def count(session: Session):
    return session.scalar("SELECT count(*) FROM people")


def main():
    setup()
    print("labels:", labels())
    with Session(engine) as session:
        print("names:", names(session))
        print("count:", count(session))
        print("f-string:", session.execute(f"SELECT {1 + 1} AS two").scalar_one())


if __name__ == "__main__":
    main()
