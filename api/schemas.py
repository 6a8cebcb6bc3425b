"""The Job document as the API shows it (../shared/API.md, "The Job")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from pipeline.jobs import Job, JobStatus, OutputRecord, Step, StepStatus


class ErrorOut(BaseModel):
    code: str
    message: str
    step: str | None = None


class SourceOut(BaseModel):
    filename: str
    size: int
    content_type: str
    sha256: str


class StepOut(BaseModel):
    name: str
    op: str
    use: str
    status: StepStatus
    progress: float
    error: ErrorOut | None = None


class OutputOut(BaseModel):
    name: str
    step: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    url: str


class JobOut(BaseModel):
    id: str
    status: JobStatus
    progress: float
    pipeline: str
    source: SourceOut
    media: dict[str, Any] | None
    steps: list[StepOut]
    outputs: list[OutputOut]
    error: ErrorOut | None
    metadata: dict[str, Any]
    webhook_url: str | None = None
    notify_email: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


def job_out(job: Job, *, public_url: str) -> JobOut:
    base = f"{public_url.rstrip('/')}/v1/jobs/{job.id}/outputs"
    return JobOut(
        id=job.id,
        status=job.status,
        progress=job.progress,
        pipeline=job.pipeline,
        source=SourceOut(
            filename=job.source.filename,
            size=job.source.size,
            content_type=job.source.content_type,
            sha256=job.source.sha256,
        ),
        media=job.media,
        steps=[_step_out(s) for s in job.steps],
        outputs=[_output_out(o, base) for o in job.outputs],
        error=ErrorOut(**job.error.to_dict()) if job.error else None,
        metadata=job.metadata,
        webhook_url=job.webhook_url,
        notify_email=job.notify_email,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )


def _step_out(step: Step) -> StepOut:
    return StepOut(
        name=step.name,
        op=step.op,
        use=step.use,
        status=step.status,
        progress=step.progress,
        error=ErrorOut(**step.error.to_dict()) if step.error else None,
    )


def _output_out(output: OutputRecord, base: str) -> OutputOut:
    return OutputOut(
        name=output.name,
        step=output.step,
        content_type=output.content_type,
        size=output.size,
        width=output.width,
        height=output.height,
        duration=output.duration,
        url=f"{base}/{output.name}",
    )
