"""Request and response bodies. Responses are built from plain data, never from ORM objects."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field


class BookIn(BaseModel):
    title: str = Field(min_length=1)
    isbn: str = Field(min_length=1)
    author: str = Field(min_length=1)
    price_cents: int = Field(gt=0)
    stock: int = Field(default=0, ge=0)
    year: Optional[int] = None
    country: str = "Unknown"


class BookSummary(BaseModel):
    id: int
    isbn: str
    title: str
    author: str
    price: str
    in_stock: bool


class ReviewIn(BaseModel):
    reviewer: str = Field(min_length=1)
    rating: int = Field(ge=1, le=5)
    body: str = ""


class RestockIn(BaseModel):
    quantity: int = Field(gt=0)


class CustomerIn(BaseModel):
    email: str = Field(min_length=3)
    name: str = Field(min_length=1)


class OrderItem(BaseModel):
    isbn: str
    quantity: int = Field(gt=0)


class OrderIn(BaseModel):
    email: str
    items: list[OrderItem] = Field(min_length=1)


class OrderLineOut(BaseModel):
    title: str
    quantity: int


class OrderOut(BaseModel):
    order_id: int
    customer: str
    total: str
    lines: list[OrderLineOut]
