"""SQA502: a blocking call in async def stops every other task (a ticker here)."""

import asyncio
import time


async def broken_wait() -> None:
    time.sleep(0.3)


async def fixed_wait() -> None:
    await asyncio.sleep(0.3)


async def ticks_during(wait) -> int:
    """How often a 0.05 s ticker ran while `wait` waited."""
    count = 0

    async def ticker() -> None:
        nonlocal count
        while True:
            await asyncio.sleep(0.05)
            count += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await wait()
    task.cancel()
    return count


async def main() -> None:
    for check in (broken_wait, fixed_wait):
        ran = await ticks_during(check)
        print(check.__name__, "-> the ticker", "ran" if ran >= 3 else "was blocked")


asyncio.run(main())
