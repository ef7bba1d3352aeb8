"""Imports the library from inside a running event loop, the way a server imports the
application it serves."""

import asyncio


async def serve():
    from database import add, names

    add("plate")
    print("inside the loop:", names())


if __name__ == "__main__":
    asyncio.run(serve())
