"""One delivery attempt, and handing due deliveries out: what the ``deliver`` actor and the
worker's ticker call. Sending is behind ``Sender``, implemented at the edge."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pipeline.db.deliveries import Delivery, DeliveryStatus, DeliveryStore
from pipeline.db.repository import JobStore
from pipeline.documents import job_document
from pipeline.errors import NotFound
from pipeline.notify.schedule import next_delay

log = logging.getLogger("pony.notify")
LEASE = timedelta(minutes=2)


@dataclass(frozen=True, kw_only=True)
class SendResult:
    delivered: bool
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    give_up: bool = False


class Sender(Protocol):
    def send(
        self, delivery: Delivery, payload: dict[str, Any], secrets: Sequence[str]
    ) -> SendResult:
        """Make one attempt; never raise for the receiver's faults, answer them instead."""


@dataclass(frozen=True, kw_only=True)
class Notifier:
    deliveries: DeliveryStore
    store: JobStore
    senders: Mapping[str, Sender]
    schedule: Sequence[float]
    public_url: str


def now() -> datetime:
    return datetime.now(UTC)


def hand_out_due(notifier: Notifier, send: Callable[[str], None]) -> int:
    """Claim the deliveries that are due and hand each to ``send`` (a broker message)."""
    claimed = notifier.deliveries.claim_due(now=now(), lease=LEASE)
    for delivery_id in claimed:
        send(delivery_id)
    return len(claimed)


def payload_for(notifier: Notifier, delivery: Delivery) -> dict[str, Any]:
    """The event's body ``{"type", "timestamp", "data": Job}``, frozen at the first attempt."""
    if delivery.payload is not None:
        return delivery.payload
    job = notifier.store.get_job(delivery.job_id)
    moment = job.finished_at or job.updated_at
    payload = {
        "type": delivery.event,
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
        "data": job_document(job, public_url=notifier.public_url),
    }
    notifier.deliveries.set_payload(delivery.id, payload)
    return payload


def deliver(notifier: Notifier, delivery_id: str) -> None:
    """Make one attempt at a claimed delivery and record what came of it."""
    delivery = notifier.deliveries.get(delivery_id)
    if delivery.status != DeliveryStatus.SENDING:
        return
    started = time.monotonic()
    try:
        payload = payload_for(notifier, delivery)
    except NotFound:
        result = SendResult(delivered=False, error="the job was deleted", give_up=True)
    else:
        result = _send(notifier, delivery, payload)
    _record(notifier, delivery, result, int((time.monotonic() - started) * 1000))


def _send(notifier: Notifier, delivery: Delivery, payload: dict[str, Any]) -> SendResult:
    sender = notifier.senders.get(delivery.channel)
    if sender is None:
        return SendResult(
            delivered=False, error=f"{delivery.channel} is not configured", give_up=True
        )
    return sender.send(delivery, payload, notifier.store.webhook_secrets(delivery.tenant_id))


def _record(notifier: Notifier, delivery: Delivery, result: SendResult, duration_ms: int) -> None:
    moment = now()
    delay = None
    if not result.delivered and not result.give_up:
        delay = next_delay(delivery.attempts + 1, notifier.schedule, retry_after=result.retry_after)
    if result.delivered:
        outcome = DeliveryStatus.DELIVERED
    elif delay is None:
        outcome = DeliveryStatus.FAILED
    else:
        outcome = DeliveryStatus.PENDING
    notifier.deliveries.record_attempt(
        delivery.id,
        at=moment,
        status=result.status,
        error=result.error,
        duration_ms=duration_ms,
        next_attempt_at=moment + timedelta(seconds=delay) if delay is not None else None,
        outcome=outcome,
    )
    log.info(
        "delivery %s (%s, attempt %d): %s", delivery.id, delivery.channel, delivery.attempts + 1,
        outcome,
    )  # fmt: skip
