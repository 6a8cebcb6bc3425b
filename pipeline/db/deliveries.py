"""Delivery records: one row per event and endpoint (webhook URL or email address), with its
attempts. Due deliveries are claimed with a lease, so any number of workers can hand them out
and a worker that dies mid-delivery only delays it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update

from pipeline.db import models as m
from pipeline.errors import NotFound
from pipeline.ids import new_id


class DeliveryStatus:
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class Delivery:
    id: str
    tenant_id: str
    job_id: str
    event: str
    channel: str
    target: str
    payload: dict[str, Any] | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class Attempt:
    number: int
    at: datetime
    status: int | None
    error: str | None
    duration_ms: int


def create_deliveries(
    conn: Connection,
    *,
    tenant_id: str,
    job_id: str,
    event: str,
    targets: list[tuple[str, str]],
    at: datetime,
) -> None:
    """Insert one pending delivery per ``(channel, target)``, due now (inside the caller's
    transaction, so a job never ends without its notifications recorded)."""
    for channel, target in targets:
        conn.execute(
            insert(m.deliveries).values(
                id=new_id("msg"),
                tenant_id=tenant_id,
                job_id=job_id,
                event=event,
                channel=channel,
                target=target,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=at,
                created_at=at,
                updated_at=at,
            )
        )


class DeliveryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim_due(self, *, now: datetime, lease: timedelta, limit: int = 50) -> list[str]:
        """Claim due deliveries (and ones whose lease ran out) for ``lease``; answer their ids."""
        due = or_(
            and_(
                m.deliveries.c.status == DeliveryStatus.PENDING,
                m.deliveries.c.next_attempt_at <= now,
            ),
            and_(m.deliveries.c.status == DeliveryStatus.SENDING, m.deliveries.c.lease_until < now),
        )
        claimed = []
        with self.engine.begin() as conn:
            candidates = conn.execute(
                select(m.deliveries.c.id, m.deliveries.c.status, m.deliveries.c.updated_at)
                .where(due)
                .order_by(m.deliveries.c.next_attempt_at)
                .limit(limit)
            ).all()
            for row in candidates:
                moved = conn.execute(
                    update(m.deliveries)
                    .where(
                        and_(
                            m.deliveries.c.id == row.id,
                            m.deliveries.c.status == row.status,
                            m.deliveries.c.updated_at == row.updated_at,
                        )
                    )
                    .values(status=DeliveryStatus.SENDING, lease_until=now + lease, updated_at=now)
                ).rowcount
                if moved:
                    claimed.append(row.id)
        return claimed

    def get(self, delivery_id: str) -> Delivery:
        with self.engine.connect() as conn:
            row = conn.execute(select(m.deliveries).where(m.deliveries.c.id == delivery_id)).first()
        if row is None:
            raise NotFound(f"no delivery {delivery_id!r}")
        return _delivery(row)

    def for_job(self, job_id: str) -> list[tuple[Delivery, list[Attempt]]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(m.deliveries)
                .where(m.deliveries.c.job_id == job_id)
                .order_by(m.deliveries.c.created_at)
            ).all()
            return [(_delivery(r), self._attempts(conn, r.id)) for r in rows]

    def set_payload(self, delivery_id: str, payload: dict[str, Any]) -> None:
        """Freeze the body once, so every retry sends the same bytes."""
        with self.engine.begin() as conn:
            conn.execute(
                update(m.deliveries)
                .where(and_(m.deliveries.c.id == delivery_id, m.deliveries.c.payload.is_(None)))
                .values(payload=payload)
            )

    def freeze_job_payloads(self, job_id: str, payload: dict[str, Any]) -> None:
        """Freeze the body of every not yet frozen delivery of a job (before it is deleted)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(m.deliveries)
                .where(and_(m.deliveries.c.job_id == job_id, m.deliveries.c.payload.is_(None)))
                .values(payload=payload)
            )

    def record_attempt(
        self,
        delivery_id: str,
        *,
        at: datetime,
        status: int | None,
        error: str | None,
        duration_ms: int,
        next_attempt_at: datetime | None,
        outcome: str,
    ) -> None:
        """Log one attempt and move the delivery: to ``outcome`` (delivered, failed) or, with a
        ``next_attempt_at``, back to pending."""
        with self.engine.begin() as conn:
            attempts = conn.execute(
                select(m.deliveries.c.attempts).where(m.deliveries.c.id == delivery_id)
            ).scalar_one()
            conn.execute(
                insert(m.delivery_attempts).values(
                    delivery_id=delivery_id,
                    number=attempts + 1,
                    at=at,
                    status=status,
                    error=(error or None) and error[:500],
                    duration_ms=duration_ms,
                )
            )
            final = outcome != DeliveryStatus.PENDING
            conn.execute(
                update(m.deliveries)
                .where(m.deliveries.c.id == delivery_id)
                .values(
                    attempts=attempts + 1,
                    status=outcome,
                    next_attempt_at=next_attempt_at,
                    lease_until=None,
                    last_status=status,
                    last_error=(error or None) and error[:500],
                    updated_at=at,
                    finished_at=at if final else None,
                )
            )

    def retry(self, delivery_id: str, *, now: datetime) -> None:
        """Make a delivery due again now, whatever its state (``POST .../retry``)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(m.deliveries)
                .where(
                    and_(
                        m.deliveries.c.id == delivery_id,
                        m.deliveries.c.status != DeliveryStatus.SENDING,
                    )
                )
                .values(
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=now,
                    updated_at=now,
                    finished_at=None,
                )
            )

    @staticmethod
    def _attempts(conn: Connection, delivery_id: str) -> list[Attempt]:
        rows = conn.execute(
            select(m.delivery_attempts)
            .where(m.delivery_attempts.c.delivery_id == delivery_id)
            .order_by(m.delivery_attempts.c.number)
        ).all()
        return [
            Attempt(
                number=r.number,
                at=_aware(r.at),
                status=r.status,
                error=r.error,
                duration_ms=r.duration_ms,
            )
            for r in rows
        ]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        tenant_id=row.tenant_id,
        job_id=row.job_id,
        event=row.event,
        channel=row.channel,
        target=row.target,
        payload=row.payload,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=_aware(row.next_attempt_at) if row.next_attempt_at else None,
        last_status=row.last_status,
        last_error=row.last_error,
        created_at=_aware(row.created_at),
    )
