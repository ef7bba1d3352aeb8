"""Bookshop: a small synchronous SQLAlchemy application (catalogue, reviews, orders)."""

__version__ = "0.3.0"
