"""SQA500: a relationship/deferred column the query did not load raises MissingGreenlet."""

import asyncio

from shop import User, outcome, seeded
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload, undefer


async def broken_counts(session: AsyncSession) -> list[int]:
    users = (await session.scalars(select(User).order_by(User.id))).all()
    return [len(u.addresses) for u in users]


async def fixed_counts(session: AsyncSession) -> list[int]:
    users = (await session.scalars(select(User).options(selectinload(User.addresses))
                                   .order_by(User.id))).all()
    return [len(u.addresses) for u in users]


async def broken_bios(session: AsyncSession) -> list[str]:
    users = (await session.scalars(select(User).order_by(User.id))).all()
    return [u.bio for u in users]


async def fixed_bios(session: AsyncSession) -> list[str]:
    users = (await session.scalars(select(User).options(undefer(User.bio))
                                   .order_by(User.id))).all()
    return [u.bio for u in users]


async def main() -> None:
    engine, maker = await seeded()
    for check in (broken_counts, fixed_counts, broken_bios, fixed_bios):
        async with maker() as session:
            try:
                print(check.__name__, "->", await check(session))
            except Exception as error:  # noqa: BLE001 - the failure is what it shows
                print(check.__name__, "->", outcome(error))
    await engine.dispose()


asyncio.run(main())
