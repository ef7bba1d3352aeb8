"""Customers (legacy Query API)."""

from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from bookshop.models import Customer


def get_customer_by_email(session: Session, email: str) -> Optional[Customer]:
    return session.query(Customer).filter_by(email=email).first()


def create_customer(session: Session, email: str, name: str) -> Customer:
    customer = Customer(email=email, name=name)
    session.add(customer)
    session.flush()
    return customer


def list_customers(session: Session) -> list[Customer]:
    return session.query(Customer).order_by(Customer.name, Customer.id).all()


def count_customers(session: Session) -> int:
    return session.query(Customer).count()
