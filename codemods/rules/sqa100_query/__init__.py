"""SQA100: legacy `session.query(...)` chains become `select()` executed on the AsyncSession."""

from .rule import QueryToSelect

__all__ = ["QueryToSelect"]
