"""The change feed: who is woken, how reads are shared, and what the job store announces."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import text

from pipeline.db.repository import JobStore
from pipeline.feed import Feed, libpq_url
from pipeline.jobs import JobStatus, StepStatus
from tests.unit.db.test_repository import new_job


@pytest.fixture
def store(tmp_path) -> JobStore:
    store = JobStore.from_url(f"sqlite:///{tmp_path}/jobs.db")
    store.upgrade()
    return store


@pytest.fixture
def tenant(store) -> str:
    return store.create_tenant("acme").tenant


def test_news_wakes_the_streams_of_that_job_only():
    async def scenario() -> tuple[bool, bool]:
        feed = Feed()
        with feed.subscribe("job_a") as a, feed.subscribe("job_b") as b:
            feed.publish("job_a")
            return await a.wait(1.0), await b.wait(0.05)

    assert asyncio.run(scenario()) == (True, False)


def test_news_that_comes_while_a_stream_reads_is_not_lost():
    async def scenario() -> bool:
        feed = Feed()
        with feed.subscribe("job_a") as sub:

            async def read() -> int:
                feed.publish("job_a")  # a commit lands while the stream reads
                return 1

            await sub.latest(read)
            return await sub.wait(0.5)

    assert asyncio.run(scenario())


def test_a_hundred_streams_of_one_job_share_one_read_per_change():
    reads = 0

    async def read() -> int:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.01)
        return reads

    async def follow(feed: Feed, ready: asyncio.Event) -> list[int]:
        with feed.subscribe("job_a") as sub:
            seen = [await sub.latest(read, max_age=5.0)]
            ready.set()
            await sub.wait(2.0)
            seen.append(await sub.latest(read))
            return seen

    async def scenario() -> list[list[int]]:
        feed = Feed()
        readies = [asyncio.Event() for _ in range(100)]
        tasks = [asyncio.create_task(follow(feed, r)) for r in readies]
        for ready in readies:
            await ready.wait()
        feed.publish("job_a")
        return await asyncio.gather(*tasks)

    assert asyncio.run(scenario()) == [[1, 2]] * 100
    assert reads == 2


def test_unsubscribed_jobs_are_forgotten():
    async def scenario() -> int:
        feed = Feed()
        with contextlib.ExitStack() as stack:
            for _ in range(3):
                stack.enter_context(feed.subscribe("job_a"))
            assert feed.following() == 3
        feed.publish("job_a")
        return feed.following()

    assert asyncio.run(scenario()) == 0


class Recorder(Feed):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[str] = []

    def publish(self, job_id: str) -> None:
        self.published.append(job_id)
        super().publish(job_id)


def test_every_visible_write_bumps_the_version_and_is_announced(store, tenant):
    feed = store.feed = Recorder()
    job = store.create_job(new_job(tenant))
    versions = [store.read_job(job.id)[1]]

    def moved() -> None:
        versions.append(store.read_job(job.id)[1])
        assert versions[-1] == versions[-2] + 1
        assert feed.published[-1] == job.id

    assert store.mark_queued(job.id, ["probe"]) == ["probe"]
    moved()
    store.start_step(job.id, "probe", "t")
    moved()
    store.set_progress(job.id, "probe", 0.5)
    moved()
    store.set_media(job.id, {"kind": "image"})
    moved()
    store.succeed_step(job.id, "probe", None)
    moved()
    store.fail_step(job.id, "thumb", StepStatus.FAILED, None)
    moved()
    store.finish_job(job.id, JobStatus.FAILED)
    moved()
    count = len(feed.published)
    assert not store.finish_job(job.id, JobStatus.SUCCEEDED)
    store.set_progress(job.id, "probe", 0.7)
    assert store.read_job(job.id)[1] == versions[-1], "writes that change nothing are silent"
    assert len(feed.published) == count


def test_the_listener_connects_with_the_plain_libpq_url():
    url = "postgresql+psycopg://pony:secret@db:5432/pony"
    assert libpq_url(url) == "postgresql://pony:secret@db:5432/pony"


def test_a_database_from_before_versions_gets_the_column(store, tenant):
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE jobs DROP COLUMN version"))
    store.upgrade()
    job = store.create_job(new_job(tenant))
    store.set_media(job.id, {"kind": "image"})
    assert store.read_job(job.id)[1] == 2
