"""Reflecting a table through the session's own connection."""
# behaviour: sqlite only: the raw DDL uses SQLite's INTEGER PRIMARY KEY rowid alias
import sqlalchemy as sa
from sqlalchemy.orm import Session


def column_names(session, table_name):
    """Reflect a table through the session's connection."""
    meta = sa.MetaData()
    table = sa.Table(table_name, meta, autoload_with=session.connection())
    return sorted(c.name for c in table.c)


def count_rows(session, table_name):
    return session.execute(sa.text(f"SELECT count(*) FROM {table_name}")).scalar()


def main():
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price REAL)"))
        conn.execute(sa.text("INSERT INTO item (name, price) VALUES ('cup', 2.5)"))
    with Session(engine) as session:
        print(column_names(session, "item"), count_rows(session, "item"))


if __name__ == "__main__":
    main()
