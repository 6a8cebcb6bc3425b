"""The one place that turns settings into parts. ``pony dev`` is only other choices here."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.db.deliveries import DeliveryStore
from pipeline.db.repository import JobStore
from pipeline.execute import Runtime, revive_stalled
from pipeline.feed import Feed, PostgresListener, libpq_url
from pipeline.notify.deliver import Notifier, Sender, hand_out_due
from pipeline.notify.schedule import parse_schedule
from pipeline.settings import Settings
from pipeline.storage import ObjectStore
from pipeline.storage.local import LocalStore
from pony.s3 import S3Store, parse_s3_url
from workers.actors import Steps
from workers.broker import make_broker
from workers.mailer import MailSender
from workers.ticker import Ticker
from workers.webhook import WebhookSender

log = logging.getLogger("pony")
DEV_TENANT = "dev"
TIME_LIMIT_MARGIN_MS = 120_000


def make_objects(url: str) -> ObjectStore:
    if url.startswith("s3://"):
        return S3Store(parse_s3_url(url))
    if url.startswith("file://"):
        return LocalStore(Path(unquote(urlsplit(url).path)))
    raise ValueError("PONY_STORAGE_URL must be s3://... or file:///absolute/folder")


def make_store(settings: Settings, *, feed: Feed | None = None) -> JobStore:
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    store = JobStore.from_url(settings.database_url, feed=feed)
    store.upgrade()
    return store


def make_feed(settings: Settings) -> Feed:
    """The API's change feed; on PostgreSQL, fed by one ``LISTEN`` thread in this process."""
    feed = Feed()
    if settings.database_url.startswith("postgresql"):
        PostgresListener(libpq_url(settings.database_url), feed).start()
    return feed


def make_steps(settings: Settings) -> Steps:
    return Steps(
        make_broker(settings.broker_url),
        max_retries=settings.max_retries,
        time_limit_ms=int(settings.ffmpeg_deadline * 1000) * 2 + TIME_LIMIT_MARGIN_MS,
    )


def make_runtime(settings: Settings, steps: Steps, *, feed: Feed | None = None) -> Runtime:
    """The parts steps and deliveries run with; wires ``steps`` to them as well."""
    objects = make_objects(settings.storage_url)
    objects.ensure_ready()
    store = make_store(settings, feed=feed)
    runtime = Runtime(store=store, objects=objects, dispatcher=steps, limits=settings.limits)
    steps.runtime = runtime
    steps.notifier = make_notifier(settings, runtime.store)
    return runtime


def make_notifier(settings: Settings, store: JobStore) -> Notifier:
    senders: dict[str, Sender] = {
        "webhook": WebhookSender(allow_private=settings.allow_private_webhooks)
    }
    if settings.smtp_url:
        senders["email"] = MailSender(
            smtp_url=settings.smtp_url, mail_from=settings.mail_from, public_url=settings.public_url
        )
    return Notifier(
        deliveries=DeliveryStore(store.engine),
        store=store,
        senders=senders,
        schedule=parse_schedule(settings.webhook_retry_schedule),
        public_url=settings.public_url,
    )


def start_tickers(steps: Steps, settings: Settings) -> list[Ticker]:
    """Hand due deliveries to the workers every second, and revive stalled jobs every minute
    (any number of these may run: each claims its work in the database)."""
    notifier, runtime = steps.notifier, steps.runtime
    if notifier is None or runtime is None:
        raise RuntimeError("wire the runtime before the tickers")
    quiet = timedelta(seconds=settings.stall_seconds)
    return [
        Ticker(lambda: hand_out_due(notifier, steps.send_delivery), interval=1.0).start(),
        Ticker(lambda: revive_stalled(runtime, quiet_for=quiet), interval=60.0).start(),
    ]


def broker_ping(steps: Steps) -> None:
    """Raise unless the broker answers (RabbitMQ: open this thread's connection)."""
    connection = getattr(steps.broker, "connection", None)
    if connection is not None and not connection.is_open:
        raise ConnectionError("broker connection is closed")
