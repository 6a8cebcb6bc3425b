"""The one place that turns settings into parts. ``pony dev`` is only other choices here."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.db.repository import JobStore
from pipeline.execute import Runtime
from pipeline.settings import Settings
from pipeline.storage import ObjectStore
from pipeline.storage.local import LocalStore
from pony.s3 import S3Store, parse_s3_url
from workers.actors import Steps
from workers.broker import make_broker

log = logging.getLogger("pony")
DEV_TENANT = "dev"
TIME_LIMIT_MARGIN_MS = 120_000


def make_objects(url: str) -> ObjectStore:
    if url.startswith("s3://"):
        return S3Store(parse_s3_url(url))
    if url.startswith("file://"):
        return LocalStore(Path(unquote(urlsplit(url).path)))
    raise ValueError("PONY_STORAGE_URL must be s3://... or file:///absolute/folder")


def make_store(settings: Settings) -> JobStore:
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    store = JobStore.from_url(settings.database_url)
    store.upgrade()
    return store


def make_steps(settings: Settings) -> Steps:
    return Steps(
        make_broker(settings.broker_url),
        max_retries=settings.max_retries,
        time_limit_ms=int(settings.ffmpeg_deadline * 1000) * 2 + TIME_LIMIT_MARGIN_MS,
    )


def make_runtime(settings: Settings, steps: Steps) -> Runtime:
    """The parts steps run with; wires ``steps`` to them as well."""
    objects = make_objects(settings.storage_url)
    objects.ensure_ready()
    runtime = Runtime(
        store=make_store(settings), objects=objects, dispatcher=steps, limits=settings.limits
    )
    steps.runtime = runtime
    return runtime


def broker_ping(steps: Steps) -> None:
    """Raise unless the broker answers (RabbitMQ: open this thread's connection)."""
    connection = getattr(steps.broker, "connection", None)
    if connection is not None and not connection.is_open:
        raise ConnectionError("broker connection is closed")
