"""Bookshop: a small synchronous SQLAlchemy application (catalogue, reviews, orders, HTTP API)."""

__version__ = "0.4.0"
