"""``/v1/jobs``: submit, read, list, cancel, delete, and download outputs."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile
from fastapi.responses import RedirectResponse, StreamingResponse

from api.deps import Services, ServicesDep, TenantDep
from api.schemas import JobOut, JobPage, job_out
from api.uploads import store_upload
from pipeline import execute, graph, presets
from pipeline.db.repository import NewJob
from pipeline.errors import (
    BrokerUnavailable,
    Conflict,
    InvalidPipeline,
    InvalidRequest,
    NotFound,
)
from pipeline.ids import new_id
from pipeline.jobs import Job, JobStatus
from pipeline.notify.ssrf import check_url
from pipeline.storage import job_prefix, original_key

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
MAX_METADATA = 16 * 1024


@router.post("", status_code=202, response_model=JobOut)
def create_job(
    services: ServicesDep,
    tenant: TenantDep,
    response: Response,
    file: Annotated[UploadFile, File(description="the media file")],
    pipeline: Annotated[str, Form(description="a preset name or a pipeline document")] = "auto",
    webhook_url: Annotated[str | None, Form(max_length=2048)] = None,
    notify_email: Annotated[str | None, Form(max_length=320)] = None,
    metadata: Annotated[str | None, Form(description="a JSON object, echoed back")] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JobOut:
    if idempotency_key:
        existing = services.store.job_for_idempotency_key(tenant, idempotency_key)
        if existing is not None:
            return _accepted(services, response, existing)
    name, steps, expand = _plan(pipeline)
    extras = _extras(services, webhook_url, notify_email, metadata)
    job_id = new_id("job")
    source = store_upload(
        file,
        services.objects,
        key=original_key(tenant, job_id),
        limit=services.settings.max_upload_bytes,
    )
    new = NewJob(
        id=job_id,
        tenant_id=tenant,
        pipeline=name,
        expand=expand,
        source=source,
        idempotency_key=idempotency_key,
        steps=steps,
        **extras,
    )
    try:
        job = services.store.create_job(new)
    except Conflict:
        services.objects.delete_prefix(job_prefix(tenant, new.id))
        if idempotency_key and (
            same := services.store.job_for_idempotency_key(tenant, idempotency_key)
        ):
            return _accepted(services, response, same)
        raise
    _start(services, job)
    return _accepted(services, response, services.store.get_job(job.id))


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, services: ServicesDep, tenant: TenantDep) -> JobOut:
    return job_out(services.store.get_job(job_id, tenant_id=tenant), public_url=_public(services))


@router.get("", response_model=JobPage)
def list_jobs(
    services: ServicesDep,
    tenant: TenantDep,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> JobPage:
    page, next_cursor = services.store.list_jobs(tenant, status=status, limit=limit, cursor=cursor)
    return JobPage(
        items=[job_out(j, public_url=_public(services)) for j in page], next_cursor=next_cursor
    )


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: str, services: ServicesDep, tenant: TenantDep) -> JobOut:
    job = services.store.get_job(job_id, tenant_id=tenant)
    if not services.store.finish_job(job.id, JobStatus.CANCELED):
        raise Conflict(f"job {job_id!r} has ended already ({job.status.value})")
    return job_out(services.store.get_job(job.id), public_url=_public(services))


@router.delete("/{job_id}", status_code=204)
def delete_job(job_id: str, services: ServicesDep, tenant: TenantDep) -> Response:
    job = services.store.get_job(job_id, tenant_id=tenant)
    services.store.finish_job(job.id, JobStatus.CANCELED)
    services.objects.delete_prefix(job_prefix(job.tenant_id, job.id))
    services.store.delete_job(job.id)
    return Response(status_code=204)


@router.get("/{job_id}/outputs/{name}", response_model=None)
def get_output(job_id: str, name: str, services: ServicesDep, tenant: TenantDep) -> Response:
    job = services.store.get_job(job_id, tenant_id=tenant)
    output = next((o for o in job.outputs if o.name == name), None)
    if output is None:
        raise NotFound(f"job {job_id!r} has no output {name!r}")
    if services.settings.presign_outputs:
        url = services.objects.presigned_url(output.key, seconds=services.settings.presign_seconds)
        if url:
            return RedirectResponse(url, status_code=307)
    return StreamingResponse(
        services.objects.iter_bytes(output.key),
        media_type=output.content_type,
        headers={"Content-Length": str(output.size)},
    )


def _plan(pipeline: str) -> tuple[str, list[graph.StepSpec], str | None]:
    """The job's pipeline name, its first steps, and what it expands by after the probe."""
    text = pipeline.strip()
    if not text.startswith("{"):
        document = presets.document_for(text)
        if document is None:
            return text, [graph.probe_step()], "kind"
        return text, graph.plan(document), None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidPipeline(f"the pipeline document is not valid JSON: {exc.msg}") from None
    return "custom", graph.plan(document), None


def _extras(
    services: Services, webhook_url: str | None, notify_email: str | None, metadata: str | None
) -> dict[str, Any]:
    if webhook_url:
        check_url(webhook_url, allow_private=services.settings.allow_private_webhooks)
    if notify_email:
        if services.settings.smtp_url is None:
            raise InvalidRequest("email notifications are off: this server has no PONY_SMTP_URL")
        if "@" not in notify_email or any(c in notify_email for c in "\r\n<>,; "):
            raise InvalidRequest("notify_email must be one plain address like name@example.com")
    return {
        "webhook_url": webhook_url or None,
        "notify_email": notify_email or None,
        "metadata": _metadata(metadata),
    }


def _metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    if len(text) > MAX_METADATA:
        raise InvalidRequest(f"metadata is limited to {MAX_METADATA} bytes of JSON")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidRequest("metadata must be a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidRequest("metadata must be a JSON object")
    return value


def _start(services: Services, job: Job) -> None:
    """Hand the job's first step to the workers; if the broker refuses, leave nothing behind."""
    try:
        execute.advance(services.runtime, job.id)
    except BrokerUnavailable:
        services.store.delete_job(job.id)
        services.objects.delete_prefix(job_prefix(job.tenant_id, job.id))
        raise


def _accepted(services: Services, response: Response, job: Job) -> JobOut:
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_out(job, public_url=_public(services))


def _public(services: Services) -> str:
    return services.settings.public_url
