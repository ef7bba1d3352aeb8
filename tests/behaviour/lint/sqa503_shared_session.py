"""SQA503: tasks sharing one AsyncSession under asyncio.gather fail; a session each works."""

import asyncio
import os
import tempfile

from shop import User, outcome, seeded
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def work(session: AsyncSession, i: int) -> None:
    session.add(User(id=100 + i, name=f"g{i}"))
    await session.flush()
    await session.execute(select(User))


async def broken_gather(maker: async_sessionmaker) -> str:
    async with maker() as session:
        await asyncio.gather(*(work(session, i) for i in range(8)))
        await session.commit()
    return "saved"


async def own_session(maker: async_sessionmaker, i: int) -> None:
    async with maker() as session:
        await work(session, i)
        await session.commit()


async def fixed_gather(maker: async_sessionmaker) -> str:
    await asyncio.gather(*(own_session(maker, i) for i in range(10, 18)))
    return "saved"


async def main() -> None:
    # a file database: each task's session gets its own connection
    engine, maker = await seeded(os.path.join(tempfile.mkdtemp(), "shop.db"))
    for check in (broken_gather, fixed_gather):
        try:
            print(check.__name__, "->", await check(maker))
        except Exception as error:  # noqa: BLE001 - the failure is what it shows
            print(check.__name__, "->", outcome(error))
    await engine.dispose()


asyncio.run(main())
