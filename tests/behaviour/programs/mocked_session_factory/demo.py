"""The real database behind accounts.py, without mocks."""

from accounts import Base, engine, greeting, open_account


def main() -> None:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    open_account("ann")
    print(greeting(1))


if __name__ == "__main__":
    main()
