"""SQA505: lazy="select" fails only when the object is not in the identity map (a test that
loaded it first passes); lazy="raise" fails the same way every time."""

import asyncio

from shop import Address, User, outcome, seeded
from sqlalchemy import select
from sqlalchemy.orm import raiseload


async def read_owner(maker, preload: bool, options=()) -> str:
    async with maker() as session:
        owner = await session.get(User, 1) if preload else None  # held: in the identity map
        address = (await session.scalars(select(Address).options(*options)
                                         .where(Address.id == 1))).one()
        try:
            return address.user.name + ("" if owner is None else " (no SQL)")
        except Exception as error:  # noqa: BLE001 - the failure is what it shows
            return outcome(error)


async def main() -> None:
    engine, maker = await seeded()
    print('lazy="select", owner already loaded ->', await read_owner(maker, True))
    print('lazy="select", owner not loaded    ->', await read_owner(maker, False))
    strict = (raiseload(Address.user),)  # what lazy="raise" on the relationship does
    print('lazy="raise",  owner already loaded ->', await read_owner(maker, True, strict))
    print('lazy="raise",  owner not loaded    ->', await read_owner(maker, False, strict))
    await engine.dispose()


asyncio.run(main())
