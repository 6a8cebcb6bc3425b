"""Running one step of one job, and moving the job on: what a worker does with a message.

Every entry point starts from the database and is safe to call twice: a step already done is
not run again, and ``advance`` only hands on steps that are still pending.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline import graph, presets
from pipeline.db.repository import JobStore
from pipeline.dispatch import Dispatcher
from pipeline.errors import (
    BrokerUnavailable,
    Canceled,
    NotFound,
    PonyError,
    ProcessingError,
    TransientError,
)
from pipeline.jobs import Job, JobError, JobStatus, OutputRecord, Step, StepStatus, outcome
from pipeline.media.info import MediaInfo
from pipeline.ops import get_op
from pipeline.ops.base import Limits, OpContext, OpResult
from pipeline.storage import ObjectStore, output_key

log = logging.getLogger("pony.execute")


@dataclass(frozen=True, kw_only=True)
class Runtime:
    """The parts a worker runs steps with, chosen once at the composition root."""

    store: JobStore
    objects: ObjectStore
    dispatcher: Dispatcher
    limits: Limits
    progress_interval: float = 0.5


def run_step(rt: Runtime, job_id: str, name: str, *, token: str, last_try: bool) -> None:
    """Run step ``name`` of ``job_id`` for the message ``token``, then move the job on.

    ``TransientError`` propagates (so the broker retries) unless this is the ``last_try``.
    """
    step = rt.store.start_step(job_id, name, token)
    if step is None:
        advance(rt, job_id)
        return
    job = rt.store.get_job(job_id)
    try:
        result, record = _execute(rt, job, step)
        if result.media is not None:
            _absorb_probe(rt, job, result.media)
    except Canceled:
        rt.store.fail_step(job_id, name, StepStatus.CANCELED, None)
        return
    except TransientError as exc:
        if not last_try:
            raise
        fail(rt, job_id, name, exc)
        return
    except PonyError as exc:
        fail(rt, job_id, name, exc)
        return
    except Exception as exc:
        log.exception("step %s of job %s crashed", name, job_id)
        fail(rt, job_id, name, ProcessingError("an internal error stopped this step"), cause=exc)
        return
    if not rt.store.succeed_step(job_id, name, record) and record is not None:
        # The job was canceled or deleted while the step ran: keep no unrecorded output.
        rt.objects.delete_prefix(record.key.rsplit("/", 1)[0] + "/")
    advance(rt, job_id)


def advance(rt: Runtime, job_id: str) -> None:
    """End the job if every step has ended; else hand on the steps that are now ready."""
    try:
        job = rt.store.get_job(job_id)
    except NotFound:
        return
    if job.status.is_final:
        return
    final = outcome(job.steps)
    if final is not None:
        rt.store.finish_job(job_id, final, _first_error(job.steps))
        return
    statuses = {s.name: s.status for s in job.steps}
    dispatch(rt, job, rt.store.mark_queued(job_id, graph.ready(job.steps, statuses)))


def revive_stalled(rt: Runtime, *, quiet_for: timedelta) -> int:
    """Send again the messages of jobs that went quiet with steps queued, then move them on.

    A lost message (a broker that failed after confirming, retries spent while the broker was
    down) would otherwise leave a job waiting forever; a duplicate is harmless, since a step is
    claimed by one message only."""
    revived = rt.store.claim_stalled(before=datetime.now(UTC) - quiet_for)
    for job_id in revived:
        job = rt.store.get_job(job_id)
        for step in job.steps:
            if step.status == StepStatus.QUEUED:
                rt.dispatcher.send(job_id, step.name, queue=step.queue)
        advance(rt, job_id)
    if revived:
        log.warning("revived %d stalled job(s): %s", len(revived), ", ".join(revived))
    return len(revived)


def dispatch(rt: Runtime, job: Job, names: list[str]) -> None:
    """Send the messages for steps already marked queued; put back the ones not taken."""
    queues = {s.name: s.queue for s in job.steps}
    for index, name in enumerate(names):
        try:
            rt.dispatcher.send(job.id, name, queue=queues[name])
        except BrokerUnavailable:
            rt.store.unqueue(job.id, names[index:])
            raise


def fail(
    rt: Runtime, job_id: str, name: str, exc: PonyError, *, cause: BaseException | None = None
) -> None:
    """End a step and its job as failed, with the error a user sees."""
    error = JobError(code=exc.code, message=exc.message, step=name)
    if cause is None:
        log.info("job %s failed at step %s: %s (%s)", job_id, name, exc.code, exc.message)
    rt.store.fail_step(job_id, name, StepStatus.FAILED, error)
    rt.store.finish_job(job_id, JobStatus.FAILED, error)


def _first_error(steps: tuple[Step, ...]) -> JobError | None:
    return next((s.error for s in steps if s.error is not None), None)


def _execute(rt: Runtime, job: Job, step: Step) -> tuple[OpResult, OutputRecord | None]:
    op = get_op(step.op)
    params = op.params.model_validate(step.params)
    with tempfile.TemporaryDirectory(prefix="pony-step-") as tmp:
        source = Path(tmp) / "input"
        rt.objects.get_file(_input_key(job, step), source)
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        ctx = OpContext(
            input=source,
            workdir=workdir,
            progress=_Progress(rt, job.id, step.name),
            limits=rt.limits,
        )
        result = op.run(ctx, params)
        return result, _store_output(rt, job, step, result)


def _input_key(job: Job, step: Step) -> str:
    if step.use == graph.ORIGINAL:
        return job.source.key
    record = next((o for o in job.outputs if o.step == step.use), None)
    if record is None:
        raise ProcessingError(f"step {step.use!r} made no output for step {step.name!r} to use")
    return record.key


def _store_output(rt: Runtime, job: Job, step: Step, result: OpResult) -> OutputRecord | None:
    made = result.output
    if made is None:
        return None
    key = output_key(job.tenant_id, job.id, step.name, made.path.name)
    rt.objects.put_file(key, made.path, content_type=made.content_type)
    return OutputRecord(
        name=step.name,
        step=step.name,
        key=key,
        content_type=made.content_type,
        size=made.path.stat().st_size,
        width=made.width,
        height=made.height,
        duration=made.duration,
    )


def _absorb_probe(rt: Runtime, job: Job, media: MediaInfo) -> None:
    """Record what the probe found; grow ``auto`` into its preset; refuse ill-fitting steps."""
    rt.store.set_media(job.id, media.to_dict())
    if job.pipeline == presets.AUTO:
        specs = graph.parse_steps(presets.for_kind(media.kind))
        rt.store.expand(job.id, specs)
        return
    graph.check_kind([s for s in job.steps if s.name != graph.PROBE], media.kind)


class _Progress:
    """Writes a running step's progress at most every ``interval``; raises ``Canceled`` once the
    job has ended (canceled, or failed in another step), which stops the op and its ffmpeg."""

    def __init__(self, rt: Runtime, job_id: str, step: str) -> None:
        self.rt, self.job_id, self.step = rt, job_id, step
        self.last = 0.0

    def __call__(self, fraction: float) -> None:
        moment = time.monotonic()
        if moment - self.last < self.rt.progress_interval:
            return
        self.last = moment
        if self.rt.store.set_progress(self.job_id, self.step, fraction).is_final:
            raise Canceled("the job ended while this step ran")
