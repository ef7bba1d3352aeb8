"""Ordering: customers, placing and cancelling orders, order history."""

from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from bookshop.db import SessionLocal
from bookshop.errors import Conflict, NotFound, OutOfStock
from bookshop.models import Book, Order
from bookshop.repositories import books, customers, orders
from bookshop.repositories.orders import OrderRepository
from bookshop.services.catalogue import format_price


def ensure_customer(session: Session, email: str, name: str) -> tuple[int, bool]:
    """Return ``(customer_id, created)``; an existing customer keeps its name."""
    existing = customers.get_customer_by_email(session, email)
    if existing is not None:
        return existing.id, False
    customer = customers.create_customer(session, email, name)
    return customer.id, True


def register_customer(email: str, name: str) -> int:
    with SessionLocal() as session:
        existing = customers.get_customer_by_email(session, email)
        if existing is not None:
            return existing.id
        customer = customers.create_customer(session, email, name)
        customer_id = customer.id
        session.commit()
    return customer_id


def _reserve_items(session: Session, items: dict[str, int]) -> list[tuple[Book, int]]:
    reserved = []
    for isbn in sorted(items):
        book = books.get_book_by_isbn(session, isbn)
        if book.stock < items[isbn]:
            raise OutOfStock(f"only {book.stock} left of {book.title!r}")
        reserved.append((book, items[isbn]))
    return reserved


def create_order_for(session: Session, email: str, items: dict[str, int]) -> dict:
    """Place an order for ``items`` (ISBN -> quantity) in the caller's transaction."""
    if not items:
        raise ValueError("an order needs at least one item")
    customer = customers.get_customer_by_email(session, email)
    if customer is None:
        raise NotFound(f"no customer with email {email}")
    reserved = _reserve_items(session, items)
    order = orders.create_order(session, customer, reserved)
    lines = []
    for book, quantity in reserved:
        lines.append((book.title, quantity))
    return {"order_id": order.id, "customer": customer.name,
            "total": format_price(order.total_cents), "lines": lines}


def place_order(email: str, items: dict[str, int]) -> dict:
    """Place an order for ``items`` (ISBN -> quantity) in its own transaction."""
    with SessionLocal.begin() as session:
        summary = create_order_for(session, email, items)
    return summary


def restock_order(order: Order) -> None:
    """Put an order's copies back on the shelf (``order.lines`` and their books are loaded)."""
    for line in order.lines:
        line.book.stock += line.quantity
    order.status = "cancelled"


def cancel_order(order_id: int) -> str:
    with SessionLocal() as session:
        with session.begin():
            order = OrderRepository(session).require(order_id)
            if order.status == "cancelled":
                return "already cancelled"
            restock_order(order)
            email = order.customer.email
        session.refresh(order)
        return f"order {order.id} for {email}: {order.status}"


def describe_order(session: Session, order_id: int) -> Optional[dict]:
    order = OrderRepository(session).get(order_id)
    if order is None:
        return None
    lines = []
    for line in order.lines:
        lines.append({"isbn": line.book.isbn, "title": line.book.title,
                      "quantity": line.quantity,
                      "unit_price": format_price(line.unit_price_cents)})
    return {"order_id": order.id, "status": order.status, "customer": order.customer.email,
            "total": format_price(order.total_cents), "lines": lines}


def order_history(session: Session, email: str) -> Optional[list[dict]]:
    """A customer's orders, oldest first; None when there is no such customer."""
    customer = customers.get_customer_by_email(session, email)
    if customer is None:
        return None
    history = []
    for order in OrderRepository(session).for_customer(customer.id):
        lines = []
        for line in order.lines:
            lines.append(f"{line.quantity} x {line.book.title}")
        history.append({"order_id": order.id, "status": order.status,
                        "total": format_price(order.total_cents), "lines": lines})
    return history


def customer_order_history(email: str) -> list[dict]:
    with SessionLocal() as session:
        history = order_history(session, email)
    if history is None:
        return []
    return history


def order_dashboard(session: Session, limit: int = 5) -> dict:
    repository = OrderRepository(session)
    recent = []
    for order in repository.recent(limit):
        recent.append({"order_id": order.id, "customer": order.customer.email,
                       "status": order.status, "total": format_price(order.total_cents)})
    return {"by_status": repository.count_by_status(), "recent": recent}


def ensure_cancellable(order: Order) -> None:
    if order.status == "cancelled":
        raise Conflict(f"order {order.id} is already cancelled")
