"""The Job document (../shared/API.md, "The Job") as plain JSON data.

One rendering for every reader: the API's answers, webhook payloads, emails and the event stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.jobs import Job, OutputRecord, Step


def job_document(job: Job, *, public_url: str) -> dict[str, Any]:
    outputs = f"{public_url.rstrip('/')}/v1/jobs/{job.id}/outputs"
    return {
        "id": job.id,
        "status": job.status.value,
        "progress": job.progress,
        "pipeline": job.pipeline,
        "source": {
            "filename": job.source.filename,
            "size": job.source.size,
            "content_type": job.source.content_type,
            "sha256": job.source.sha256,
        },
        "media": job.media,
        "steps": [_step(s) for s in job.steps],
        "outputs": [_output(o, outputs) for o in job.outputs],
        "error": job.error.to_dict() if job.error else None,
        "metadata": job.metadata,
        "webhook_url": job.webhook_url,
        "notify_email": job.notify_email,
        "created_at": _time(job.created_at),
        "updated_at": _time(job.updated_at),
        "finished_at": _time(job.finished_at),
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "name": step.name,
        "op": step.op,
        "use": step.use,
        "status": step.status.value,
        "progress": step.progress,
        "error": step.error.to_dict() if step.error else None,
    }


def _output(output: OutputRecord, base: str) -> dict[str, Any]:
    return {
        "name": output.name,
        "step": output.step,
        "content_type": output.content_type,
        "size": output.size,
        "width": output.width,
        "height": output.height,
        "duration": output.duration,
        "url": f"{base}/{output.name}",
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
