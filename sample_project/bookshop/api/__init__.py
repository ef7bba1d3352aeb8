"""HTTP API (FastAPI). ``bookshop.api.app:app`` is the ASGI application."""
