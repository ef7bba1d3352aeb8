"""A lending library on SQLModel that prints books right after committing (or rolling back)
changes to them. The sync session expired them there, and an expired SQLModel object prints
no fields at all; the next read of an attribute or of its branch reloads it. Printing a
reloaded object whole is avoided: the order of its fields depends on how it was reloaded."""
from typing import Optional

from sqlmodel import Field, Relationship, Session, SQLModel, create_engine


class Branch(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    city: str
    books: list["Book"] = Relationship(back_populates="branch")


class Book(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str
    copies: int = 1
    branch_id: Optional[int] = Field(default=None, foreign_key="branch.id")
    branch: Optional[Branch] = Relationship(back_populates="books")


engine = create_engine("sqlite://")


def open_branch() -> int:
    with Session(engine) as session:
        branch = Branch(city="Leiden")
        session.add(branch)
        session.commit()
        return branch.id


def acquire(branch_id: int, title: str) -> int:
    with Session(engine) as session:
        book = Book(title=title, branch_id=branch_id)
        session.add(book)
        session.commit()
        print("acquired:", repr(book), f"[{book}]")
        print("shelved at", book.branch.city, "as", book.title, book.copies)
        return book.id


def restock(book_id: int, copies: int, verbose: bool) -> Book:
    with Session(engine) as session:
        book = session.get(Book, book_id)
        book.copies = copies
        session.add(book)
        session.commit()
        if verbose:
            print("restocked:", repr(book))
        print("copies now", book.copies)
        return book


def retitle_and_undo(book_id: int) -> None:
    with Session(engine) as session:
        book = session.get(Book, book_id)
        book.title = "Untitled"
        session.rollback()
        print(f"undone: [{book}]")
        print("title kept:", book.title)


def last_word(book_id: int) -> None:
    with Session(engine) as session:
        book = session.get(Book, book_id)
        book.copies += 1
        session.commit()
        print("donated one more:", repr(book))


def catalogue_card(branch_id: int, title: str) -> None:
    with Session(engine) as session:
        card = Book(title=title, branch_id=branch_id, copies=0)
        session.add(card)
        session.commit()
    print("card printed after closing:", repr(card))


def main() -> None:
    SQLModel.metadata.create_all(engine)
    branch_id = open_branch()
    book_id = acquire(branch_id, "Max Havelaar")
    book = restock(book_id, 3, verbose=True)
    print("returned", book.title, book.copies)
    restock(book_id, 4, verbose=False)
    retitle_and_undo(book_id)
    last_word(book_id)
    catalogue_card(branch_id, "Woutertje Pieterse")
    with Session(engine) as session:
        print("in the catalogue:", session.get(Book, book_id).copies)


if __name__ == "__main__":
    main()
