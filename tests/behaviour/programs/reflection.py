"""A library catalogue read back from the database that holds it: table names, columns and
foreign keys through inspect(), a Table(autoload_with=...) to write with, metadata.reflect()."""
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    inspect,
    select,
)

engine = create_engine("sqlite://")


def create_schema():
    metadata = MetaData()
    Table("authors", metadata,
          Column("id", Integer, primary_key=True),
          Column("name", String(40), nullable=False))
    Table("books", metadata,
          Column("id", Integer, primary_key=True),
          Column("title", String(80)),
          Column("author_id", Integer, ForeignKey("authors.id")))
    metadata.create_all(engine)


def table_names():
    return inspect(engine).get_table_names()


def describe(table_name):
    columns = inspect(engine).get_columns(table_name)
    return [(column["name"], str(column["type"]), column["nullable"]) for column in columns]


def exists(table_name):
    found = inspect(engine).has_table(table_name)
    return found


def add_authors(names):
    metadata = MetaData()
    authors = Table("authors", metadata, autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(insert(authors), [{"name": name} for name in names])
    with engine.connect() as conn:
        return [row.name for row in conn.execute(select(authors).order_by(authors.c.name))]


def reflect_everything():
    metadata = MetaData()
    metadata.reflect(bind=engine)
    books = metadata.tables["books"]
    return sorted(metadata.tables), [fk.target_fullname for fk in books.c.author_id.foreign_keys]


def referred_tables(table_name):
    with engine.connect() as conn:
        keys = inspect(conn).get_foreign_keys(table_name)
    return [key["referred_table"] for key in keys]


def main():
    create_schema()
    print("tables:", table_names())
    print("authors:", describe("authors"))
    print("books exists:", exists("books"), "| loans exists:", exists("loans"))
    print("added:", add_authors(["Lem", "Le Guin"]))
    print("reflected:", reflect_everything())
    print("books refer to:", referred_tables("books"))


if __name__ == "__main__":
    main()
