"""The step actor on Dramatiq's in-memory broker, with SQLite and in-memory storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from dramatiq import Worker
from dramatiq.middleware import TimeLimitExceeded

from pipeline.db.repository import JobStore
from pipeline.execute import Runtime
from pipeline.jobs import JobStatus
from pipeline.ops.base import Limits
from pipeline.storage.memory import MemoryStore
from tests.factories import new_job
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
    job = store.create_job(new_job(tenant))
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
