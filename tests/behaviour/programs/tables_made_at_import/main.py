"""Imports the library at the top, before any event loop runs."""

from database import add, names

if __name__ == "__main__":
    add("cup")
    add("mug")
    print("at the top:", names())
