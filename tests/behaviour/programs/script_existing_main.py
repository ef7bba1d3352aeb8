"""A script with its own main(): the schema and a first row are made at module level, then
main() reports; a loop at module level calls a helper that became async."""

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str]


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
seen: list[str] = []


def record(page: str) -> int:
    with Session(engine) as session:
        session.add(Visit(page=page))
        session.commit()
        seen.append(page)
        return session.scalar(select(Visit.id).order_by(Visit.id.desc()).limit(1))


for page in ["/", "/about", "/"]:
    print("visit", record(page), page)


def main() -> None:
    with Session(engine) as session:
        pages = session.scalars(select(Visit.page).distinct().order_by(Visit.page)).all()
    print("distinct pages:", pages, "seen:", len(seen))


if __name__ == "__main__":
    main()
