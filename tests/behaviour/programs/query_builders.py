"""Queries built in variables, under conditions and across functions: helpers that return a
query their callers refine and run, a stored query consumed later."""
import warnings

warnings.simplefilter("ignore")
from sqlalchemy import DateTime, ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Board(Base):
    __tablename__ = "boards"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


class Card(Base):
    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]
    column: Mapped[str]
    assignee: Mapped[int | None]
    weight: Mapped[int]
    archived: Mapped[DateTime | None] = mapped_column(DateTime, nullable=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    board: Mapped[Board] = relationship()


engine = create_engine("sqlite://")


def cards(session: Session, column=None, assignee=None, heaviest_first=False, limit=None):
    q = session.query(Card)
    if column:
        q = q.filter(Card.column == column)
    if assignee is not None:
        q = q.filter_by(assignee=assignee)
    q = q.order_by(Card.weight.desc() if heaviest_first else Card.id)
    if limit:
        q = q.limit(limit)
    return q.all()


def live_on(session: Session, board_id, assignee=None):
    q = session.query(Card).filter(Card.board_id == board_id, Card.archived.is_(None))
    if assignee is not None:
        q = q.filter(Card.assignee == assignee)
    return q


def heavy(session: Session, board_id):
    return live_on(session, board_id).filter(Card.weight > 3).count()


def heaviest(session: Session, board_id, assignee):
    return live_on(session, board_id, assignee).order_by(Card.weight.desc()).first()


def texts(session: Session, board_id):
    return [c.text for c in live_on(session, board_id).order_by(Card.id)]


def mine(session: Session, me):
    stored = session.query(Card).filter(Card.assignee == me).order_by(Card.id)
    print("mine", [c.text for c in stored.all()])
    print("first of mine", stored.first().text)
    print("second of mine", stored[1].text)
    print("how many", stored.count())


def heaviest_page(session: Session, page: int, per_page: int):
    ranked = session.query(Card).order_by(Card.weight.desc(), Card.id)
    shown = ranked.offset(page * per_page).limit(per_page)
    print("page", page, len(shown.all()), "of", ranked.count())
    return [c.text for c in shown]


def listing(session: Session, texts_only: bool):
    # rows of two shapes on two paths: kept synchronous, run through run_sync when migrated
    if texts_only:
        q = session.query(Card.text)
    else:
        q = session.query(Card)
    return [row[0] if texts_only else row.text for row in q.order_by(Card.id).all()]


def column_page(session: Session, column: str, offset: int, size: int):
    entries = session.query(Card).filter(Card.column == column).order_by(Card.id)
    total = entries.count()
    entries = entries.offset(offset).limit(size).all()  # the name holds rows from here on
    return total, [c.text for c in entries[:size]]


def on_other_boards(session: Session, board_id: int):
    others = session.query(Card.id).filter(Card.board_id != board_id)
    return [c.text for c in session.query(Card).filter(Card.id.in_(others)).order_by(Card.id)]


def weights(session: Session, column: str):
    q = session.query(Card).filter(Card.column == column).order_by(Card.id)
    q = q.with_entities(Card.text, Card.weight)  # the rows hold columns from here on
    return [tuple(row) for row in q.all()], q.with_entities(Card.id).first()[0]


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Board(id=1, title="work"), Board(id=2, title="home")])
        for i, (column, assignee, weight, board) in enumerate([
                ("todo", 1, 5, 1), ("doing", 2, 1, 1), ("todo", 2, 8, 1), ("done", 1, 2, 2),
                ("todo", None, 4, 2), ("doing", 1, 3, 1)]):
            session.add(Card(id=i + 1, text=f"card{i + 1}", column=column, assignee=assignee,
                             weight=weight, board_id=board))
        session.commit()
        print("all", [c.text for c in cards(session)])
        print("todo", [c.text for c in cards(session, column="todo")])
        print("for 1", [c.text for c in cards(session, assignee=1, heaviest_first=True)])
        print("two", [c.text for c in cards(session, limit=2)])
        print("heavy on 1", heavy(session, 1))
        print("heaviest of 2 on 1", heaviest(session, 1, 2).text)
        print("texts on 2", texts(session, 2))
        mine(session, 1)
        print("heaviest page 1", heaviest_page(session, 1, 2))
        print("listing", listing(session, True), listing(session, False))
        print("column page", column_page(session, "todo", 1, 5))
        print("weights", weights(session, "doing"))
        print("on other boards", on_other_boards(session, 1),
              [c.text for c in session.query(Card).filter(
                  Card.id.notin_(session.query(Card.id).filter(Card.weight > 3))).all()])


if __name__ == "__main__":
    main()
