"""The change feed: "job X changed", from whoever wrote it to the streams that follow job X.

The job store announces every write a reader could see. On PostgreSQL it runs
``pg_notify('pony_jobs', job_id)`` inside the writing transaction, so the news leaves at commit
and reaches every API process on any host; ``PostgresListener`` (one thread per API process)
hears it and calls ``Feed.publish``. On SQLite (``pony dev``: one process) the store calls
``Feed.publish`` itself after the commit.

A stream subscribes before its first read, then loops: ``await sub.wait(timeout)``, read, send.
``Subscription.latest`` shares one read among all streams of a job in this process, so a
hundred open streams cost the database what one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import psycopg

log = logging.getLogger("pony.feed")
CHANNEL = "pony_jobs"
SETTLE = 0.05
"""Seconds a woken stream waits before reading, so a burst of commits costs one read."""

T = TypeVar("T")


@dataclass
class _Snapshot:
    tick: int
    at: float
    value: Any


@dataclass
class _Topic:
    """One job's subscribers in this process, and the last read they share."""

    subscribers: set[Subscription] = field(default_factory=set)
    snapshot: _Snapshot | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Feed:
    """Who waits on which job, and waking them. ``publish`` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[str, _Topic] = {}
        self._tick = 0

    def publish(self, job_id: str) -> None:
        """Wake every stream of ``job_id``; a no-op when nobody follows it."""
        with self._lock:
            self._tick += 1
            topic = self._topics.get(job_id)
            subscribers = list(topic.subscribers) if topic else []
            for subscriber in subscribers:
                subscriber.wanted = self._tick
        for subscriber in subscribers:
            subscriber.wake()

    def publish_all(self) -> None:
        """Wake every stream (after the listener reconnects: news may have been lost)."""
        with self._lock:
            job_ids = list(self._topics)
        for job_id in job_ids:
            self.publish(job_id)

    @contextlib.contextmanager
    def subscribe(self, job_id: str) -> Iterator[Subscription]:
        """Follow ``job_id`` from the running event loop until the block ends."""
        loop = asyncio.get_running_loop()
        with self._lock:
            topic = self._topics.setdefault(job_id, _Topic())
            subscription = Subscription(self, topic, loop, self._tick)
            topic.subscribers.add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                topic.subscribers.discard(subscription)
                if not topic.subscribers:
                    self._topics.pop(job_id, None)

    @property
    def tick(self) -> int:
        with self._lock:
            return self._tick

    def following(self) -> int:
        """How many streams are open, for metrics and tests."""
        with self._lock:
            return sum(len(t.subscribers) for t in self._topics.values())


class Subscription:
    """One stream's place in the feed: a wake-up flag and the newest news it was woken by."""

    def __init__(
        self, feed: Feed, topic: _Topic, loop: asyncio.AbstractEventLoop, tick: int
    ) -> None:
        self._feed, self._topic, self._loop = feed, topic, loop
        self._event = asyncio.Event()
        self.wanted = tick
        """The feed's tick at the newest news of this job (set by ``Feed.publish``)."""

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the stream is gone
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """``True`` when the job changed (news that came during the last read counts), ``False``
        after ``timeout`` seconds of quiet. Bursts are settled into one wake-up."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        await asyncio.sleep(SETTLE)
        self._event.clear()
        return True

    async def latest(self, read: Callable[[], Awaitable[T]], *, max_age: float | None = None) -> T:
        """The job as ``read`` finds it, no older than the news this stream was woken by (and,
        with ``max_age``, read at most that many seconds ago). Streams of one job share reads."""
        topic = self._topic
        async with topic.lock:
            snapshot = topic.snapshot
            if (
                snapshot is not None
                and snapshot.tick >= self.wanted
                and (max_age is None or time.monotonic() - snapshot.at <= max_age)
            ):
                return cast(T, snapshot.value)
            tick, at = self._feed.tick, time.monotonic()
            value = await read()
            topic.snapshot = _Snapshot(tick=tick, at=at, value=value)
            return value


class PostgresListener:
    """One thread per API process: ``LISTEN pony_jobs`` on its own autocommit connection,
    publishing each job id it hears; reconnects (and wakes every stream) after a failure."""

    def __init__(self, conninfo: str, feed: Feed, *, poll: float = 5.0, retry: float = 2.0):
        self.conninfo, self.feed, self.poll, self.retry = conninfo, feed, poll, retry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pony-feed", daemon=True)
        self.listening = threading.Event()

    def start(self) -> PostgresListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as exc:
                log.warning("change feed: lost the database (%s); retrying", exc)
            self.listening.clear()
            self._stop.wait(self.retry)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            self.feed.publish_all()
            while not self._stop.is_set():
                for notice in conn.notifies(timeout=self.poll):
                    self.feed.publish(notice.payload)


def libpq_url(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://...`` as the plain ``postgresql://...`` psycopg connects to."""
    scheme, _, rest = sqlalchemy_url.partition("://")
    return f"{scheme.split('+')[0]}://{rest}"
