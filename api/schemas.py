"""The Job document as the API shows it (../shared/API.md, "The Job")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from pipeline.documents import job_document
from pipeline.jobs import Job, JobStatus, StepStatus


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
    return JobOut.model_validate(job_document(job, public_url=public_url))
