"""A wiki script that does all its work at module level: each edit of a page bumps a revision
counter the database computes on UPDATE (`onupdate=` a SQL expression), and a slug the
database fills in on INSERT (`server_default=`). The script prints between its steps and
reads the counter right after each commit and after a rollback, then in a helper."""

from sqlalchemy import create_engine, literal_column, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Page(Base):
    __tablename__ = "pages"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    slug: Mapped[str] = mapped_column(server_default=text("'draft'"))
    revision: Mapped[int] = mapped_column(default=1,
                                          onupdate=literal_column("revision + 1"))


def describe(page: Page) -> str:
    return f"{page.title!r} r{page.revision} ({page.slug})"


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
print("wiki ready")

session = Session(engine)
home = Page(title="Home")
session.add(home)
session.commit()
print("created:", home.title, home.revision, home.slug)

home.title = "Welcome"
session.commit()
print("after the first edit:", home.revision)

for word in ("Start", "Front page"):
    home.title = word
    session.commit()
    print("edited to", home.title, "revision", home.revision)

home.title = "Scratch"
session.flush()
print("flushed")
session.rollback()
print("rolled back to", home.title, home.revision)
print("now", describe(home))

session.close()
print("wiki closed")
