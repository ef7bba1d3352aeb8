"""/books routes: catalogue search, details, new books, reviews, restocking."""

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from bookshop.api.schemas import BookIn, BookSummary, RestockIn, ReviewIn
from bookshop.db import get_db
from bookshop.errors import Conflict, NotFound
from bookshop.repositories import books
from bookshop.services import catalogue

router = APIRouter(prefix="/books", tags=["books"])


@router.get("", response_model=list[BookSummary])
def list_books(
    q: str = "",
    page: int = Query(default=1, ge=1),
    per_page: int = Query(default=10, ge=1, le=100),
    db: Session = Depends(get_db),
) -> list[dict]:
    return catalogue.search_catalogue(db, q, page=page, per_page=per_page)


@router.get("/{book_id}")
def get_book(book_id: int, db: Session = Depends(get_db)) -> dict:
    details = catalogue.describe_book(db, book_id)
    if details is None:
        raise HTTPException(status_code=404, detail=f"book {book_id} not found")
    return details


@router.post("", status_code=201)
def create_book(payload: BookIn, db: Session = Depends(get_db)) -> dict:
    try:
        book_id = catalogue.create_book(
            db, payload.title, payload.isbn, payload.author, payload.price_cents,
            stock=payload.stock, year=payload.year, country=payload.country,
        )
    except Conflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    db.commit()
    return catalogue.describe_book(db, book_id)


@router.get("/{book_id}/reviews")
def list_reviews(book_id: int, db: Session = Depends(get_db)) -> list[dict]:
    reviews = catalogue.book_reviews(db, book_id)
    if reviews is None:
        raise HTTPException(status_code=404, detail=f"book {book_id} not found")
    return reviews


@router.post("/{book_id}/reviews", status_code=201)
def add_review(book_id: int, payload: ReviewIn, db: Session = Depends(get_db)) -> dict:
    try:
        review_id = catalogue.review_book_by_id(
            db, book_id, payload.reviewer, payload.rating, payload.body
        )
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    db.commit()
    return {"id": review_id, "book_id": book_id,
            "average_rating": books.average_rating(db, book_id)}


@router.post("/{book_id}/stock")
def restock(book_id: int, payload: RestockIn, db: Session = Depends(get_db)) -> dict:
    if not books.restock_book(db, book_id, payload.quantity):
        raise HTTPException(status_code=404, detail=f"book {book_id} not found")
    db.commit()
    book = books.get_book(db, book_id)
    return {"id": book_id, "stock": book.stock}
