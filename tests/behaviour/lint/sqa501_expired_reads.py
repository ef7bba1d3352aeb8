"""SQA501: reads after commit()/rollback() (and relationships after a bare refresh())."""

import asyncio

from shop import User, run_checks, seeded
from sqlalchemy.ext.asyncio import AsyncSession


async def broken_after_commit(session: AsyncSession) -> str:
    user = await session.get(User, 1)
    user.name = "ann2"
    await session.commit()
    return user.name


async def fixed_after_commit(session: AsyncSession) -> str:
    user = await session.get(User, 1)
    user.name = "ann3"
    await session.commit()
    await session.refresh(user)
    return user.name


async def broken_after_rollback(session: AsyncSession) -> str:
    user = await session.get(User, 2)
    user.name = "changed"
    await session.rollback()
    return user.name


async def fixed_after_rollback(session: AsyncSession) -> str:
    user = await session.get(User, 2)
    user.name = "changed"
    await session.rollback()
    await session.refresh(user)
    return user.name


async def broken_after_refresh(session: AsyncSession) -> int:
    user = await session.get(User, 1)
    await session.commit()
    await session.refresh(user)
    return len(user.addresses)


async def fixed_after_refresh(session: AsyncSession) -> int:
    user = await session.get(User, 1)
    await session.commit()
    await session.refresh(user, ["addresses"])
    return len(user.addresses)


async def main() -> None:
    engine, maker = await seeded()
    await run_checks(maker, broken_after_commit, fixed_after_commit, broken_after_rollback,
                     fixed_after_rollback, broken_after_refresh, fixed_after_refresh)
    await engine.dispose()


asyncio.run(main())
