"""``GET /v1/jobs/{id}/events`` in-process: the stream is parsed as a browser would."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from api.app import create_app
from api.deps import Services
from pipeline.db.repository import JobStore
from pipeline.feed import Feed
from pipeline.jobs import JobStatus
from tests.unit.api.conftest import make_services

JPEG = b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10


def parse(text: str) -> list[dict]:
    """Server-Sent Events as ``{"id", "event", "data"}``; comments and ``retry`` left out."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append({**fields, "data": json.loads(fields["data"])})
    return events


@pytest.fixture
def services(tmp_path, dispatcher) -> Services:
    """The API's services with the store announcing to the same feed the streams wait on."""
    base = make_services(tmp_path, dispatcher)
    feed = Feed()
    store = JobStore(base.store.engine, feed=feed)
    return dataclasses.replace(
        base, store=store, runtime=dataclasses.replace(base.runtime, store=store), feed=feed
    )


@pytest.fixture
def job_id(client) -> str:
    response = client.post("/v1/jobs", files={"file": ("a.jpg", JPEG, "image/jpeg")})
    assert response.status_code == 202
    return response.json()["id"]


def when_followed(feed: Feed, then: Callable[[], None]) -> Iterator[threading.Thread]:
    """Run ``then`` in a thread once a stream follows the job (the test client reads the whole
    response before it returns, so the job must move on from elsewhere)."""

    def run() -> None:
        deadline = time.monotonic() + 10
        while feed.following() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        then()

    thread = threading.Thread(target=run)
    thread.start()
    yield thread
    thread.join()


def run_probe(store: JobStore, job_id: str) -> None:
    store.start_step(job_id, "probe", "token")
    store.set_progress(job_id, "probe", 0.25)
    time.sleep(0.2)
    store.set_progress(job_id, "probe", 0.5)
    time.sleep(0.2)
    store.succeed_step(job_id, "probe", None)
    store.finish_job(job_id, JobStatus.SUCCEEDED)


def test_an_ended_job_sends_its_final_event_at_once_and_closes(client, services, job_id):
    services.store.finish_job(job_id, JobStatus.CANCELED)
    response = client.get(f"/v1/jobs/{job_id}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    events = parse(response.text)
    assert [e["event"] for e in events] == ["job.canceled"]
    assert events[0]["data"]["status"] == "canceled" and events[0]["data"]["id"] == job_id
    assert int(events[0]["id"]) == services.store.read_job(job_id)[1]


def test_a_live_job_streams_progress_then_its_final_event(client, services, job_id):
    for _ in when_followed(services.feed, lambda: run_probe(services.store, job_id)):
        response = client.get(f"/v1/jobs/{job_id}/events")
    events = parse(response.text)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "job.progress" and kinds[-1] == "job.succeeded"
    assert set(kinds[:-1]) == {"job.progress"}
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids)), "ids are the job's versions: they only grow"
    progress = [e["data"]["steps"][0]["progress"] for e in events if e["event"] == "job.progress"]
    assert any(0 < p < 1 for p in progress)
    assert events[-1]["data"]["status"] == "succeeded"
    assert services.feed.following() == 0


def test_last_event_id_skips_the_states_the_client_has_seen(client, services, job_id):
    seen = services.store.read_job(job_id)[1]

    def finish() -> None:
        time.sleep(0.3)
        services.store.finish_job(job_id, JobStatus.CANCELED)

    for _ in when_followed(services.feed, finish):
        response = client.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": str(seen)})
    events = parse(response.text)
    assert [e["event"] for e in events] == ["job.canceled"]
    assert int(events[0]["id"]) > seen


def test_a_quiet_stream_reads_the_job_once_until_it_changes(client, services, job_id):
    reads = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("SELECT steps."):  # one per read of a whole job
            reads.append(statement)

    event.listen(services.store.engine, "before_cursor_execute", count)

    def finish() -> None:
        time.sleep(0.5)
        services.store.finish_job(job_id, JobStatus.CANCELED)

    for _ in when_followed(services.feed, finish):
        client.get(f"/v1/jobs/{job_id}/events")
    assert len(reads) == 3, "the tenant check, the first state, the final state"


def test_another_tenants_job_is_404_and_no_key_is_401(client, keys, job_id):
    other = client.get(f"/v1/jobs/{job_id}/events", headers={"Authorization": f"Bearer {keys[1]}"})
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"
    anonymous = client.get(f"/v1/jobs/{job_id}/events", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_the_page_and_its_files_are_served(services):
    with TestClient(create_app(services)) as anonymous:
        page = anonymous.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert 'id="drop"' in page.text and 'id="upload-progress"' in page.text
        script = anonymous.get("/static/app.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert anonymous.get("/static/style.css").status_code == 200
        assert anonymous.get("/static/secrets.env").status_code == 404
