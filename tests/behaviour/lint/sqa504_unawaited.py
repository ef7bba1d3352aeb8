"""SQA504: an async function called without await never runs (and Python warns)."""

import asyncio
import gc
import warnings

from shop import User, seeded
from sqlalchemy.ext.asyncio import AsyncSession


async def rename(session: AsyncSession, name: str) -> None:
    user = await session.get(User, 1)
    user.name = name
    await session.flush()


async def broken_rename(session: AsyncSession) -> str:
    rename(session, "dropped")
    return (await session.get(User, 1)).name


async def fixed_rename(session: AsyncSession) -> str:
    await rename(session, "awaited")
    return (await session.get(User, 1)).name


async def main() -> None:
    engine, maker = await seeded()
    for check in (broken_rename, fixed_rename):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with maker() as session:
                name = await check(session)
            gc.collect()
        unawaited = any("was never awaited" in str(w.message) for w in caught)
        print(check.__name__, "->", name, "| never-awaited warning:", unawaited)
    await engine.dispose()


asyncio.run(main())
