"""The ASGI application: ``uvicorn bookshop.api.app:app``."""

from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from bookshop import __version__
from bookshop.api import routes_books, routes_orders
from bookshop.db import get_db

app = FastAPI(title="Bookshop API", version=__version__)
app.include_router(routes_books.router)
app.include_router(routes_orders.router)


@app.get("/health")
def health(db: Session = Depends(get_db)) -> dict:
    db.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}
