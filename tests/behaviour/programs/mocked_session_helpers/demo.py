"""The ledger on its real database."""

from ledger import Base, engine, labels, record


def main() -> None:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    record("rent", 120000)
    record("coffee", 350)
    print("labels", labels())


if __name__ == "__main__":
    main()
