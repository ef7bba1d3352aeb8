"""Uses inventory.py as a library: its names, none of its `__main__` work."""

from inventory import LOW, SessionLocal, low_stock, stock

print("restocking below", LOW)
with SessionLocal() as session:
    for part in low_stock(session):
        print("ordering", part)
    session.commit()
    print("stock now:", stock(session))
