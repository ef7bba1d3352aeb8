"""Orders: module functions taking a Session, and the class-based ``OrderRepository``."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import desc, distinct, func
from sqlalchemy.orm import Session, joinedload

from bookshop.errors import NotFound
from bookshop.models import Book, Customer, Order, OrderLine


class OrderRepository:
    """Order queries bound to one session (relationships load lazily, as they always did)."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, order_id: int) -> Optional[Order]:
        return (
            self.session.query(Order)
            .options(joinedload(Order.customer))
            .filter(Order.id == order_id)
            .one_or_none()
        )

    def require(self, order_id: int) -> Order:
        order = self.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        return order

    def for_customer(self, customer_id: int) -> list[Order]:
        return (
            self.session.query(Order)
            .filter(Order.customer_id == customer_id)
            .order_by(Order.id)
            .all()
        )

    def recent(self, limit: int = 5) -> list[Order]:
        return (
            self.session.query(Order)
            .order_by(Order.id.desc())
            .limit(limit)
            .all()
        )

    def count_by_status(self) -> dict[str, int]:
        rows = (
            self.session.query(Order.status, func.count(Order.id))
            .group_by(Order.status)
            .order_by(Order.status)
            .all()
        )
        counts = {}
        for status, count in rows:
            counts[status] = count
        return counts

    def add(self, order: Order) -> Order:
        self.session.add(order)
        self.session.flush()
        return order


def create_order(session: Session, customer: Customer, items: list[tuple[Book, int]]) -> Order:
    order = Order(customer=customer, status="placed")
    total = 0
    for book, quantity in items:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        line = OrderLine(book=book, quantity=quantity, unit_price_cents=book.price_cents)
        order.lines.append(line)
        book.stock -= quantity
        total += quantity * book.price_cents
    order.total_cents = total
    return OrderRepository(session).add(order)


def get_order_with_lines(session: Session, order_id: int) -> Order:
    return OrderRepository(session).require(order_id)


def orders_for_customer(session: Session, customer_id: int) -> list[Order]:
    return OrderRepository(session).for_customer(customer_id)


def order_status(session: Session, order_id: int) -> str:
    return session.query(Order.status).filter(Order.id == order_id).one()[0]


def count_active_customers(session: Session) -> int:
    query = session.query(func.count(distinct(Order.customer_id)))
    return query.filter(Order.status != "cancelled").scalar()


def bestsellers(session: Session, limit: int = 3) -> list[tuple[str, int]]:
    rows = (
        session.query(Book.title, func.sum(OrderLine.quantity).label("sold"))
        .join(OrderLine, OrderLine.book_id == Book.id)
        .join(Order, Order.id == OrderLine.order_id)
        .filter(Order.status != "cancelled")
        .group_by(Book.id, Book.title)
        .order_by(desc("sold"), Book.title)
        .limit(limit)
        .all()
    )
    return [(title, int(total)) for title, total in rows]


def revenue_cents(session: Session) -> int:
    query = session.query(func.coalesce(func.sum(Order.total_cents), 0))
    return int(query.filter(Order.status != "cancelled").scalar())
