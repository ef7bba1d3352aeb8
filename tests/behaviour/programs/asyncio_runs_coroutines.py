"""A program that already uses asyncio around synchronous SQLAlchemy: coroutine functions
call sync query helpers, and hand coroutines to asyncio themselves (a task started with
create_task, gather, wait_for, a coroutine kept in a name and awaited later, coroutines
collected in a list, asyncio.run() and run_until_complete() from a sync function). Once the
helpers are async, only the calls that ran synchronously get an await: the coroutines asyncio
runs stay as they were (awaited where they are made, the watcher ran inline and create_task
got None). `main()`, async now for its DDL, awaits what it ran with asyncio.run() (no event
loop starts inside a running one). A str parameter read after a rollback is no object to
refresh."""
import asyncio

from sqlalchemy import String, create_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Span(Base):
    __tablename__ = "spans"
    id: Mapped[int] = mapped_column(primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(20), unique=True)


engine = create_engine("sqlite://")


def count_spans(session: Session, prefix: str) -> int:
    return session.query(Span).filter(Span.trace_id.startswith(prefix)).count()


async def report(prefix: str) -> str:
    with Session(engine) as session:  # (tasks running at once share no session)
        return f"{prefix}: {count_spans(session, prefix)}"


class Collector:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.running = False
        self.seen: list[str] = []

    def known(self, trace_id: str) -> bool:
        with Session(engine) as session:
            return session.query(Span).filter_by(trace_id=trace_id).first() is not None

    async def record(self, trace_id: str) -> None:
        try:
            self.session.add(Span(trace_id=trace_id))
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            print("duplicate", trace_id)

    async def watch(self) -> None:
        for _ in range(100):  # (awaited inline, it would go round 100 times)
            if not self.running:
                break
            await self.recorded.wait()
            if "a-2" not in self.seen and self.known("a-2"):
                self.seen.append("a-2")

    async def start(self) -> asyncio.Task:
        self.running = True
        self.recorded = asyncio.Event()
        return asyncio.create_task(self.watch())


async def record_all() -> None:
    with Session(engine) as session:
        collector = Collector(session)
        watcher = await collector.start()
        await collector.record("a-1")
        await collector.record("a-2")
        await collector.record("a-2")
        collector.recorded.set()
        await asyncio.sleep(0.01)
        collector.running = False
        await watcher
        print("seen", collector.seen)
        print(await asyncio.gather(report("a"), report("b")))
        pending = report("a-1")
        print("waiting")
        print(await pending)
        print(await asyncio.wait_for(report("a"), timeout=5))
        jobs = []
        for prefix in ("a-1", "a-2"):
            jobs.append(report(prefix))
        print(await asyncio.gather(*jobs))
        print(await asyncio.gather(*[report(p) for p in ("a", "z")]))


async def summary(prefix: str) -> str:
    return await report(prefix)


def main() -> None:
    Base.metadata.create_all(engine)
    asyncio.run(record_all())
    print(asyncio.run(summary("a")))
    loop = asyncio.new_event_loop()
    print(loop.run_until_complete(summary("a-")))
    loop.close()


main()
