"""``GET /v1/jobs/{id}/events``: a job's progress, then its final event, as Server-Sent Events.

Each event's ``id`` is the job's version, ``data`` the Job document (as in webhooks).
``event: job.progress`` while the job lives; then ``job.succeeded``, ``job.failed`` or
``job.canceled``, and the stream closes. A reconnecting client sends ``Last-Event-ID`` and is not
sent a state it has seen; the final event is always sent, at once if the job has ended.

A stream reads the database only when the change feed says the job changed (one read shared by
every stream of that job in this process), or after ``HEARTBEAT`` seconds of quiet, when it
also sends a comment line so proxies and clients know it is alive.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Services, ServicesDep, TenantDep
from pipeline.documents import job_document
from pipeline.errors import NotFound

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
HEARTBEAT = 15.0
RETRY_MS = 2000
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass(frozen=True)
class State:
    """One read of the job, rendered once for every stream that shares it."""

    version: int
    status: str
    final: bool
    data: str


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the job's events"}},
)
async def job_events(
    job_id: str,
    services: ServicesDep,
    tenant: TenantDep,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    await run_in_threadpool(services.store.read_job, job_id, tenant_id=tenant)
    return StreamingResponse(
        stream(services, job_id, seen=_version(last_event_id)),
        media_type="text/event-stream",
        headers=HEADERS,
    )


async def stream(services: Services, job_id: str, *, seen: int = 0) -> AsyncIterator[str]:
    """The event stream's text: states newer than version ``seen``, then the final event."""

    async def read() -> State:
        return await run_in_threadpool(_state, services, job_id)

    with services.feed.subscribe(job_id) as changes:
        yield f"retry: {RETRY_MS}\n\n"
        max_age: float | None = HEARTBEAT / 2
        while True:
            try:
                state = await changes.latest(read, max_age=max_age)
            except NotFound:
                return
            if state.final:
                yield _event(f"job.{state.status}", state)
                return
            if state.version > seen:
                yield _event("job.progress", state)
                seen = state.version
            woken = await changes.wait(HEARTBEAT)
            max_age = None if woken else HEARTBEAT / 2
            if not woken:
                yield ": keep-alive\n\n"


def _state(services: Services, job_id: str) -> State:
    job, version = services.store.read_job(job_id)
    document = job_document(job, public_url=services.settings.public_url)
    return State(
        version=version,
        status=job.status.value,
        final=job.status.is_final,
        data=json.dumps(document, separators=(",", ":")),
    )


def _event(kind: str, state: State) -> str:
    return f"id: {state.version}\nevent: {kind}\ndata: {state.data}\n\n"


def _version(last_event_id: str | None) -> int:
    try:
        return max(0, int((last_event_id or "0").strip()))
    except ValueError:
        return 0
