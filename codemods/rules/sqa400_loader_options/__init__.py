"""SQA400: relationships read after a query get a loader option on that query."""

from .rule import LoaderOptions

__all__ = ["LoaderOptions"]
