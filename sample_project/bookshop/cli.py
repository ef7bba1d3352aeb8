"""Command-line interface: python -m bookshop.cli [--db URL] COMMAND ..."""

from __future__ import annotations

import argparse
import sys

from bookshop.db import SessionLocal, init_db, make_engine
from bookshop.errors import NotFound, OutOfStock
from bookshop.services import catalogue, ordering


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bookshop", description="Bookshop admin tool")
    parser.add_argument("--db", default="sqlite:///bookshop.db", help="database URL")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create the tables")
    sub.add_parser("seed", help="load demo data")
    sub.add_parser("report", help="print the sales report")
    search = sub.add_parser("search", help="search the catalogue")
    search.add_argument("term")
    search.add_argument("--page", type=int, default=1)
    order = sub.add_parser("order", help="place an order: EMAIL ISBN:QTY ...")
    order.add_argument("email")
    order.add_argument("items", nargs="+")
    cancel = sub.add_parser("cancel", help="cancel an order and restock its books")
    cancel.add_argument("order_id", type=int)
    history = sub.add_parser("history", help="show a customer's orders")
    history.add_argument("email")
    top = sub.add_parser("top-authors", help="authors with the most reviews")
    top.add_argument("--min-reviews", type=int, default=1)
    return parser


def parse_items(raw_items: list[str]) -> dict[str, int]:
    items: dict[str, int] = {}
    for raw in raw_items:
        isbn, _, qty = raw.rpartition(":")
        if not isbn or not qty.isdigit():
            raise ValueError(f"bad item {raw!r}, expected ISBN:QTY")
        items[isbn] = items.get(isbn, 0) + int(qty)
    return items


def run_command(args: argparse.Namespace) -> int:
    if args.command == "seed":
        counts = catalogue.seed_demo_data()
        print(f"Seeded {counts['books']} books, {counts['reviews']} reviews, "
              f"{counts['customers']} customers")
    elif args.command == "report":
        print(catalogue.sales_report())
    elif args.command == "search":
        results = catalogue.catalogue_search(args.term, page=args.page)
        if not results:
            print("No matches.")
        for row in results:
            print(f"{row['isbn']}  {row['title']} by {row['author']}  {row['price']}")
    elif args.command == "order":
        summary = ordering.place_order(args.email, parse_items(args.items))
        print(f"Order {summary['order_id']} for {summary['customer']}: {summary['total']}")
    elif args.command == "cancel":
        print(ordering.cancel_order(args.order_id))
    elif args.command == "history":
        for entry in ordering.customer_order_history(args.email):
            print(f"#{entry['order_id']} [{entry['status']}] {entry['total']}")
            for line in entry["lines"]:
                print(f"    {line}")
    elif args.command == "top-authors":
        for name, count in catalogue.top_authors(min_reviews=args.min_reviews):
            print(f"{name}: {count}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    engine = make_engine(args.db)
    SessionLocal.configure(bind=engine)
    try:
        if args.command == "init":
            init_db(engine)
            print("Database initialised.")
            return 0
        return run_command(args)
    except (NotFound, OutOfStock, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
