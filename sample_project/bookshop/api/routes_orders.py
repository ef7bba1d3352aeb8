"""Order, customer and report routes."""

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from bookshop.api.schemas import CustomerIn, OrderIn, OrderLineOut, OrderOut
from bookshop.db import get_db
from bookshop.errors import Conflict, NotFound, OutOfStock
from bookshop.repositories.orders import OrderRepository
from bookshop.services import catalogue, ordering

router = APIRouter(tags=["orders"])


@router.post("/customers", status_code=201)
def register_customer(payload: CustomerIn, db: Session = Depends(get_db)) -> dict:
    customer_id, created = ordering.ensure_customer(db, payload.email, payload.name)
    db.commit()
    return {"id": customer_id, "created": created}


@router.get("/customers/{email}/orders")
def customer_orders(email: str, db: Session = Depends(get_db)) -> list[dict]:
    history = ordering.order_history(db, email)
    if history is None:
        raise HTTPException(status_code=404, detail=f"no customer with email {email}")
    return history


@router.post("/orders", status_code=201, response_model=OrderOut)
def place_order(payload: OrderIn, db: Session = Depends(get_db)) -> OrderOut:
    items: dict[str, int] = {}
    for item in payload.items:
        items[item.isbn] = items.get(item.isbn, 0) + item.quantity
    try:
        summary = ordering.create_order_for(db, payload.email, items)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except OutOfStock as exc:
        db.rollback()
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    db.commit()
    lines = []
    for title, quantity in summary["lines"]:
        lines.append(OrderLineOut(title=title, quantity=quantity))
    return OrderOut(order_id=summary["order_id"], customer=summary["customer"],
                    total=summary["total"], lines=lines)


@router.get("/orders")
def order_dashboard(limit: int = 5, db: Session = Depends(get_db)) -> dict:
    return ordering.order_dashboard(db, limit=limit)


@router.get("/orders/{order_id}")
def get_order(order_id: int, db: Session = Depends(get_db)) -> dict:
    details = ordering.describe_order(db, order_id)
    if details is None:
        raise HTTPException(status_code=404, detail=f"order {order_id} not found")
    return details


@router.post("/orders/{order_id}/cancel")
def cancel_order(order_id: int, db: Session = Depends(get_db)) -> dict:
    repository = OrderRepository(db)
    order = repository.get(order_id)
    if order is None:
        raise HTTPException(status_code=404, detail=f"order {order_id} not found")
    try:
        ordering.ensure_cancellable(order)
    except Conflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    ordering.restock_order(order)
    db.commit()
    db.refresh(order)
    return {"order_id": order.id, "status": order.status}


@router.get("/reports/sales")
def sales_report(db: Session = Depends(get_db)) -> dict:
    return catalogue.sales_figures(db)
