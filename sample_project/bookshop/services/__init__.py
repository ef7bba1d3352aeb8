"""Business operations returning plain data (dicts, tuples, strings), never ORM objects.

Functions taking a ``session`` leave committing to the caller (the API routes); the others
open their own session from ``SessionLocal`` (the CLI)."""
