"""The job model as values: states, steps, outputs, and the rules that move between them.

Persistence lives in ``pipeline.db``; this module only decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_JOB_STATUSES


FINAL_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})


class StepStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STEP_STATUSES


FINAL_STEP_STATUSES = frozenset(
    {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELED}
)
NOT_STARTED = (StepStatus.PENDING, StepStatus.QUEUED)


@dataclass(frozen=True, kw_only=True)
class JobError:
    code: str
    message: str
    step: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "step": self.step}


@dataclass(frozen=True, kw_only=True)
class Step:
    name: str
    op: str
    use: str
    params: dict[str, Any]
    queue: str
    status: StepStatus = StepStatus.PENDING
    progress: float = 0.0
    error: JobError | None = None
    run_token: str | None = None
    attempts: int = 0


@dataclass(frozen=True, kw_only=True)
class OutputRecord:
    name: str
    step: str
    key: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None


@dataclass(frozen=True, kw_only=True)
class Source:
    filename: str
    size: int
    content_type: str
    sha256: str
    key: str


@dataclass(frozen=True, kw_only=True)
class Job:
    id: str
    tenant_id: str
    status: JobStatus
    pipeline: str
    source: Source
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    progress: float = 0.0
    media: dict[str, Any] | None = None
    error: JobError | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    webhook_url: str | None = None
    notify_email: str | None = None
    steps: tuple[Step, ...] = ()
    outputs: tuple[OutputRecord, ...] = ()

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


def job_progress(steps: Sequence[Step]) -> float:
    """The job's progress: the mean of its steps' progress."""
    if not steps:
        return 0.0
    done = [
        1.0 if s.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED) else s.progress for s in steps
    ]
    return round(sum(done) / len(done), 4)


def outcome(steps: Iterable[Step]) -> JobStatus | None:
    """The job's final status once every step has ended, else ``None``."""
    statuses = [s.status for s in steps]
    if any(s == StepStatus.FAILED for s in statuses):
        return JobStatus.FAILED
    if not all(s.is_final for s in statuses):
        return None
    if all(s in (StepStatus.SUCCEEDED, StepStatus.SKIPPED) for s in statuses):
        return JobStatus.SUCCEEDED
    return JobStatus.CANCELED
