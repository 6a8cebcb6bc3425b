"""Steps run through the core on SQLite and in-memory storage, with real media tools."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PIL import Image

from pipeline.db.repository import JobStore
from pipeline.dispatch import RecordingDispatcher
from pipeline.errors import TransientError
from pipeline.execute import Runtime, advance, revive_stalled, run_step
from pipeline.ids import new_id
from pipeline.jobs import JobStatus, Source, StepStatus
from pipeline.ops.base import Limits
from pipeline.storage.memory import MemoryStore
from tests.factories import new_job


class FlakyStore(MemoryStore):
    def get_file(self, key, path):
        raise TransientError("object storage did not answer as expected")


@pytest.fixture
def runtime(tmp_path):
    store = JobStore.from_url(f"sqlite:///{tmp_path}/jobs.db")
    store.upgrade()
    return Runtime(
        store=store,
        objects=MemoryStore(),
        dispatcher=RecordingDispatcher(),
        limits=Limits(deadline=60),
        progress_interval=0,
    )


def submit(runtime, tmp_path, content: bytes, *, document=None):
    auto = document is None
    tenant = runtime.store.create_tenant(new_id("t")).tenant
    job_id = new_id("job")
    upload = tmp_path / "upload"
    upload.write_bytes(content)
    key = f"{tenant}/{job_id}/original"
    runtime.objects.put_file(key, upload, content_type="application/octet-stream")
    source = Source(filename="x", size=len(content), content_type="x", sha256="x", key=key)
    runtime.store.create_job(
        new_job(
            tenant,
            document=document,
            id=job_id,
            pipeline="auto" if auto else "custom",
            expand="kind" if auto else None,
            source=source,
        )
    )
    advance(runtime, job_id)
    return job_id


def drain(runtime):
    """Run every dispatched message, as workers would, until none is left."""
    while runtime.dispatcher.sent:
        job_id, step, _queue = runtime.dispatcher.sent.pop(0)
        run_step(runtime, job_id, step, token=f"{job_id}:{step}", last_try=False)


def jpeg_bytes(tmp_path, size):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", size, (200, 30, 30)).save(path, "JPEG")
    return path.read_bytes()


def test_an_auto_image_job_grows_after_the_probe_and_succeeds(runtime, tmp_path):
    job_id = submit(runtime, tmp_path, jpeg_bytes(tmp_path, (800, 400)))
    drain(runtime)
    job = runtime.store.get_job(job_id)
    assert job.status == JobStatus.SUCCEEDED and job.progress == 1.0
    assert job.media["kind"] == "image" and (job.media["width"], job.media["height"]) == (800, 400)
    assert {o.name: (o.width, o.height) for o in job.outputs} == {
        "thumb_320": (320, 160),
        "thumb_1280": (800, 400),
    }
    assert all(key.startswith(f"{job.tenant_id}/{job_id}/") for key in runtime.objects.objects)


def test_text_posing_as_media_fails_the_job_with_a_code_and_no_path(runtime, tmp_path):
    job_id = submit(runtime, tmp_path, b"hello, I am not a video\n" * 20)
    drain(runtime)
    job = runtime.store.get_job(job_id)
    assert job.status == JobStatus.FAILED
    assert job.error.code == "invalid_media" and job.error.step == "probe"
    assert "/" not in job.error.message


def test_a_transient_fault_is_raised_for_a_retry_and_fails_the_job_on_the_last_try(
    runtime, tmp_path
):
    job_id = submit(runtime, tmp_path, jpeg_bytes(tmp_path, (10, 10)))
    flaky = Runtime(**{**runtime.__dict__, "objects": FlakyStore()})
    with pytest.raises(TransientError):
        run_step(flaky, job_id, "probe", token="m1", last_try=False)
    assert runtime.store.get_job(job_id).step("probe").status == StepStatus.RUNNING
    run_step(flaky, job_id, "probe", token="m1", last_try=True)
    job = runtime.store.get_job(job_id)
    assert job.status == JobStatus.FAILED and job.error.code == "transient_error"


def test_a_duplicate_message_does_not_run_a_step_twice(runtime, tmp_path):
    job_id = submit(runtime, tmp_path, jpeg_bytes(tmp_path, (10, 10)))
    runtime.dispatcher.sent.clear()
    run_step(runtime, job_id, "probe", token="first", last_try=False)
    sent = list(runtime.dispatcher.sent)
    run_step(runtime, job_id, "probe", token="second", last_try=False)
    assert runtime.store.get_job(job_id).step("probe").attempts == 1
    assert runtime.dispatcher.sent == sent


def test_a_video_step_on_an_image_upload_fails_with_unsupported_media(runtime, tmp_path):
    document = {"steps": {"mp4": {"op": "video.transcode", "use": ":original"}}}
    job_id = submit(runtime, tmp_path, jpeg_bytes(tmp_path, (10, 10)), document=document)
    drain(runtime)
    failed = runtime.store.get_job(job_id)
    assert failed.status == JobStatus.FAILED
    assert failed.error.code == "unsupported_media" and failed.error.step == "probe"
    assert failed.step("mp4").status == StepStatus.CANCELED


class CancelOnPut(MemoryStore):
    """Storage that sees the job canceled just as a step stores its output."""

    store: JobStore

    def put_file(self, key, path, *, content_type):
        super().put_file(key, path, content_type=content_type)
        if "/thumb/" in key:
            self.store.finish_job(key.split("/")[1], JobStatus.CANCELED)


def test_an_output_stored_after_a_cancel_is_removed_again(runtime, tmp_path):
    objects = CancelOnPut()
    objects.store = runtime.store
    racing = Runtime(**{**runtime.__dict__, "objects": objects})
    document = {"steps": {"thumb": {"op": "image.thumbnail", "use": ":original", "width": 8}}}
    job_id = submit(racing, tmp_path, jpeg_bytes(tmp_path, (32, 32)), document=document)
    drain(racing)
    job = runtime.store.get_job(job_id)
    assert job.status == JobStatus.CANCELED and job.outputs == ()
    assert [key for key in objects.objects if "/thumb/" in key] == []


def test_a_job_whose_message_was_lost_is_revived_and_runs_to_its_end(runtime, tmp_path):
    job_id = submit(runtime, tmp_path, jpeg_bytes(tmp_path, (64, 64)))
    lost = runtime.dispatcher.sent.pop()  # the probe's message never reaches a worker
    assert revive_stalled(runtime, quiet_for=timedelta(minutes=5)) == 0  # not quiet long enough
    assert revive_stalled(runtime, quiet_for=timedelta(seconds=-1)) == 1
    assert runtime.dispatcher.sent == [lost]
    drain(runtime)
    assert runtime.store.get_job(job_id).status == JobStatus.SUCCEEDED
    assert revive_stalled(runtime, quiet_for=timedelta(seconds=-1)) == 0  # ended jobs stay put
