import pytest

from pipeline import graph
from pipeline.db.repository import JobStore
from pipeline.errors import Conflict, NotFound
from pipeline.jobs import JobStatus, OutputRecord, StepStatus
from tests import factories

THUMB = {"steps": {"thumb": {"op": "image.thumbnail", "use": ":original", "width": 64}}}


@pytest.fixture
def store(tmp_path):
    store = JobStore.from_url(f"sqlite:///{tmp_path}/jobs.db")
    store.upgrade()
    return store


@pytest.fixture
def tenant(store):
    return store.create_tenant("acme").tenant


def new_job(tenant, *, key=None, document=THUMB):
    return factories.new_job(tenant, document=document, idempotency_key=key, metadata={"order": 7})


def test_a_created_job_reads_back_with_its_steps_in_order(store, tenant):
    job = store.create_job(new_job(tenant))
    assert job.status == JobStatus.QUEUED
    assert [s.name for s in job.steps] == ["probe", "thumb"]
    assert job.metadata == {"order": 7}
    assert job.created_at.tzinfo is not None


def test_another_tenant_cannot_read_a_job(store, tenant):
    job = store.create_job(new_job(tenant))
    other = store.create_tenant("other").tenant
    with pytest.raises(NotFound):
        store.get_job(job.id, tenant_id=other)


def test_api_keys_are_found_by_hash_and_tenant_names_are_unique(store):
    made = store.create_tenant("keys")
    assert store.tenant_for_key(made.api_key) == made.tenant
    assert store.tenant_for_key("pk_wrong") is None
    assert made.webhook_secret.startswith("whsec_")
    with pytest.raises(Conflict):
        store.create_tenant("keys")


def test_an_idempotency_key_is_unique_per_tenant(store, tenant):
    first = store.create_job(new_job(tenant, key="abc"))
    with pytest.raises(Conflict):
        store.create_job(new_job(tenant, key="abc"))
    assert store.job_for_idempotency_key(tenant, "abc").id == first.id
    other = store.create_tenant("other").tenant
    assert store.create_job(new_job(other, key="abc")).id != first.id


def test_a_step_is_claimed_once_per_message_and_again_by_its_redelivery(store, tenant):
    job = store.create_job(new_job(tenant))
    assert store.start_step(job.id, "probe", "msg-1") is not None
    assert store.start_step(job.id, "probe", "msg-2") is None
    again = store.start_step(job.id, "probe", "msg-1")
    assert again is not None and again.attempts == 2
    assert store.get_job(job.id).status == JobStatus.RUNNING


def test_only_one_caller_finishes_a_step_or_a_job(store, tenant):
    job = store.create_job(new_job(tenant))
    store.start_step(job.id, "probe", "m")
    assert store.succeed_step(job.id, "probe", None) is True
    assert store.succeed_step(job.id, "probe", None) is False
    assert store.finish_job(job.id, JobStatus.CANCELED) is True
    assert store.finish_job(job.id, JobStatus.SUCCEEDED) is False
    finished = store.get_job(job.id)
    assert finished.status == JobStatus.CANCELED
    assert finished.step("thumb").status == StepStatus.CANCELED
    assert store.start_step(job.id, "thumb", "m2") is None


def test_a_recorded_output_replaces_the_previous_one_of_its_step(store, tenant):
    job = store.create_job(new_job(tenant))
    store.start_step(job.id, "thumb", "m")
    out = OutputRecord(name="thumb", step="thumb", key="t/j/thumb/x.jpg", content_type="image/jpeg",
                       size=10, width=64, height=48)  # fmt: skip
    assert store.succeed_step(job.id, "thumb", out)
    assert store.get_job(job.id).outputs == (out,)


def test_progress_answers_the_jobs_status_so_a_running_step_sees_a_cancel(store, tenant):
    job = store.create_job(new_job(tenant))
    store.start_step(job.id, "probe", "m")
    assert store.set_progress(job.id, "probe", 0.5) == JobStatus.RUNNING
    assert store.get_job(job.id).step("probe").progress == 0.5
    store.finish_job(job.id, JobStatus.CANCELED)
    assert store.set_progress(job.id, "probe", 0.6) == JobStatus.CANCELED


def test_expansion_adds_steps_only_once(store, tenant):
    job = store.create_job(factories.new_job(tenant, expand="kind", pipeline="auto"))
    extra = graph.parse_steps(THUMB)
    assert store.expand(job.id, extra) is True
    assert store.expand(job.id, extra) is False
    assert [s.name for s in store.get_job(job.id).steps] == ["probe", "thumb"]


def test_jobs_page_newest_first_with_a_cursor(store, tenant):
    ids = [store.create_job(new_job(tenant)).id for _ in range(5)]
    first, cursor = store.list_jobs(tenant, status=None, limit=2, cursor=None)
    second, cursor2 = store.list_jobs(tenant, status=None, limit=2, cursor=cursor)
    third, cursor3 = store.list_jobs(tenant, status=None, limit=2, cursor=cursor2)
    seen = [j.id for j in first + second + third]
    assert seen == sorted(ids, reverse=True)
    assert cursor3 is None
    assert store.list_jobs(tenant, status=JobStatus.FAILED, limit=5, cursor=None)[0] == []
