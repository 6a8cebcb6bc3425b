"""``/v1/jobs/{id}/deliveries``: a job's notifications and their attempt log, and a retry."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Services, ServicesDep, TenantDep
from pipeline.db.deliveries import Attempt, Delivery, DeliveryStatus, DeliveryStore
from pipeline.errors import Conflict, NotFound
from pipeline.notify.deliver import now

router = APIRouter(prefix="/v1/jobs", tags=["deliveries"])


class AttemptOut(BaseModel):
    number: int
    at: datetime
    status: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: str
    """The ``webhook-id`` of every attempt."""
    event: str
    channel: str
    target: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    attempt_log: list[AttemptOut]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


@router.get("/{job_id}/deliveries", response_model=DeliveryList)
def list_deliveries(job_id: str, services: ServicesDep, tenant: TenantDep) -> DeliveryList:
    job = services.store.get_job(job_id, tenant_id=tenant)
    found = _deliveries(services).for_job(job.id)
    return DeliveryList(items=[_out(delivery, attempts) for delivery, attempts in found])


@router.post(
    "/{job_id}/deliveries/{delivery_id}/retry", status_code=202, response_model=DeliveryOut
)
def retry_delivery(
    job_id: str, delivery_id: str, services: ServicesDep, tenant: TenantDep
) -> DeliveryOut:
    job = services.store.get_job(job_id, tenant_id=tenant)
    deliveries = _deliveries(services)
    delivery, attempts = _one(deliveries, job.id, delivery_id)
    if delivery.status == DeliveryStatus.SENDING:
        raise Conflict(f"delivery {delivery_id!r} is being sent right now")
    deliveries.retry(delivery.id, now=now())
    return _out(deliveries.get(delivery.id), attempts)


def _deliveries(services: Services) -> DeliveryStore:
    return DeliveryStore(services.store.engine)


def _one(
    deliveries: DeliveryStore, job_id: str, delivery_id: str
) -> tuple[Delivery, list[Attempt]]:
    for delivery, attempts in deliveries.for_job(job_id):
        if delivery.id == delivery_id:
            return delivery, attempts
    raise NotFound(f"job {job_id!r} has no delivery {delivery_id!r}")


def _out(delivery: Delivery, attempts: list[Attempt]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event=delivery.event,
        channel=delivery.channel,
        target=delivery.target,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        attempt_log=[
            AttemptOut(
                number=a.number, at=a.at, status=a.status, error=a.error, duration_ms=a.duration_ms
            )
            for a in attempts
        ],
    )
