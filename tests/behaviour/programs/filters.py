"""Product catalogue: chained filter / filter_by / order_by / limit / offset, query iteration."""
from sqlalchemy import Boolean, Column, Integer, String, create_engine, or_
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Product(Base):
    __tablename__ = "products"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    category = Column(String(20), nullable=False)
    price = Column(Integer, nullable=False)  # cents
    stock = Column(Integer, nullable=False, default=0)
    discontinued = Column(Boolean, nullable=False, default=False)


engine = create_engine("sqlite://")

CATALOGUE = [
    ("hammer", "tools", 1250, 10, False),
    ("screwdriver", "tools", 450, 0, False),
    ("wrench", "tools", 900, 3, False),
    ("saw", "tools", 2100, 2, True),
    ("drill", "tools", 5400, 1, False),
    ("spatula", "kitchen", 300, 25, False),
    ("whisk", "kitchen", 350, 0, False),
    ("skillet", "kitchen", 3200, 4, False),
    ("rake", "garden", 1800, 6, False),
    ("hose", "garden", 2500, 0, True),
    ("trowel", "garden", 650, 12, False),
]


def seed(session):
    for name, category, price, stock, discontinued in CATALOGUE:
        session.add(
            Product(
                name=name,
                category=category,
                price=price,
                stock=stock,
                discontinued=discontinued,
            )
        )
    session.commit()


def names(products):
    return [p.name for p in products]


def cheap_products(session, max_price):
    return (
        session.query(Product)
        .filter(Product.price <= max_price)
        .order_by(Product.price, Product.name)
        .all()
    )


def by_category(session, category):
    return session.query(Product).filter_by(category=category).order_by(Product.name).all()


def page(session, number, size):
    return (
        session.query(Product)
        .order_by(Product.id)
        .offset((number - 1) * size)
        .limit(size)
        .all()
    )


def best_tools_in_stock(session):
    query = session.query(Product).filter(Product.category == "tools")
    query = query.filter(Product.stock > 0).filter_by(discontinued=False)
    return query.order_by(Product.price.desc()).limit(2).all()


def search(session, fragment):
    return (
        session.query(Product)
        .filter(Product.name.like(f"%{fragment}%"))
        .filter(or_(Product.stock > 5, Product.price < 500))
        .order_by(Product.name)
        .all()
    )


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        print("cheap:", names(cheap_products(session, 700)))
        print("kitchen:", names(by_category(session, "kitchen")))
        print("page 1:", names(page(session, 1, 4)))
        print("page 3:", names(page(session, 3, 4)))
        print("page 4:", names(page(session, 4, 4)))
        best = best_tools_in_stock(session)
        print("best tools:", [(p.name, p.price) for p in best])
        print("search 'r':", names(search(session, "r")))
        print("out of stock:")
        for product in (
            session.query(Product)
            .filter(Product.stock == 0)
            .filter(Product.category.in_(["kitchen", "garden", "tools"]))
            .order_by(Product.category, Product.name)
        ):
            print("  -", product.category, product.name)
        cheapest_garden = (
            session.query(Product)
            .filter_by(category="garden")
            .order_by(Product.price)
            .first()
        )
        print("cheapest garden:", cheapest_garden.name, cheapest_garden.price)


if __name__ == "__main__":
    main()
