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


async def name_of(session: AsyncSession) -> str:
    return (await session.get(User, 1)).name


STEPS = {"name": name_of}  # looked up at run time: the analysis cannot resolve the call


async def broken_marked(session: AsyncSession) -> str:
    # TODO(sqla-asyncify SQA306): may return a coroutine: name_of() became async; await it
    return STEPS["name"](session).upper()


async def fixed_marked(session: AsyncSession) -> str:
    return (await STEPS["name"](session)).upper()


async def main() -> None:
    engine, maker = await seeded()
    for check in (broken_rename, fixed_rename, broken_marked, fixed_marked):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with maker() as session:
                try:
                    name = await check(session)
                except AttributeError as error:  # a coroutine used as the value
                    name = f"AttributeError ({error})"
            gc.collect()
        unawaited = any("was never awaited" in str(w.message) for w in caught)
        print(check.__name__, "->", name, "| never-awaited warning:", unawaited)
    await engine.dispose()


asyncio.run(main())
