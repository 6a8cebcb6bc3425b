"""The step actor on Dramatiq's in-memory broker, with SQLite and in-memory storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from dramatiq import Worker
from dramatiq.middleware import TimeLimitExceeded

from pipeline import graph
from pipeline.db.repository import JobStore, NewJob
from pipeline.execute import Runtime
from pipeline.ids import new_id
from pipeline.jobs import JobStatus, Source
from pipeline.ops.base import Limits
from pipeline.storage.memory import MemoryStore
from workers.actors import Steps
from workers.broker import make_broker


class InterruptedStore(MemoryStore):
    """Storage during which the worker's time limit strikes."""

    def get_file(self, key: str, path: Path) -> None:
        raise TimeLimitExceeded()


@pytest.fixture
def steps(tmp_path):
    steps = Steps(make_broker("memory://"), max_retries=2, time_limit_ms=60_000)
    store = JobStore.from_url(f"sqlite:///{tmp_path}/jobs.db")
    store.upgrade()
    steps.runtime = Runtime(
        store=store, objects=InterruptedStore(), dispatcher=steps, limits=Limits(deadline=60)
    )
    yield steps
    steps.broker.close()


def test_a_step_past_the_time_limit_fails_its_job_instead_of_hanging(steps):
    store = steps.runtime.store
    tenant = store.create_tenant("t").tenant
    source = Source(filename="a", size=1, content_type="x", sha256="x", key="k")
    job = store.create_job(
        NewJob(
            id=new_id("job"),
            tenant_id=tenant,
            pipeline="custom",
            expand=None,
            source=source,
            metadata={},
            webhook_url=None,
            notify_email=None,
            idempotency_key=None,
            steps=graph.plan({"steps": {}}),
        )
    )
    store.mark_queued(job.id, ["probe"])
    steps.send(job.id, "probe", queue="light")
    worker = Worker(steps.broker, worker_threads=1)
    worker.start()
    try:
        steps.broker.join("light", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    ended = store.get_job(job.id)
    assert ended.status == JobStatus.FAILED
    assert ended.error.code == "timeout" and ended.error.step == "probe"
