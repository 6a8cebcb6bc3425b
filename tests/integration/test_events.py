"""The event stream through ``pony api`` and ``pony worker`` on PostgreSQL: progress written by
the worker reaches the API process by NOTIFY, not by sharing memory."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.factories import make_video
from tests.integration.conftest import submit

pytestmark = pytest.mark.integration
TRANSCODE = {"steps": {"mp4_720p": {"op": "video.transcode", "use": ":original", "height": 720}}}
FINAL = ("job.succeeded", "job.failed", "job.canceled")


def read_events(client: httpx.Client, job_id: str, **headers: str) -> list[dict[str, Any]]:
    """Every event of the job's stream, until the server closes it."""
    events, fields = [], {}
    timeout = httpx.Timeout(30, read=60)  # the server sends a comment every 15 s of quiet
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=timeout) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        for line in r.iter_lines():
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
                continue
            if "data" in fields:
                events.append({**fields, "data": json.loads(fields["data"])})
            fields = {}
    return events


@pytest.fixture(scope="module")
def streamed(cluster, tenant, tmp_path_factory) -> tuple[str, list[dict[str, Any]]]:
    """A 10 s 720p clip through one transcode step, followed from its upload to its end."""
    clip = make_video(
        tmp_path_factory.mktemp("events") / "clip.mp4", size=(1280, 720), duration=10.0
    )
    with cluster.client(tenant["api_key"]) as client:
        job = submit(client, clip, pipeline=json.dumps(TRANSCODE))
        return job["id"], read_events(client, job["id"])


def test_progress_crosses_from_the_worker_to_the_stream(streamed):
    _, events = streamed
    progress = [
        step["progress"]
        for event in events
        if event["event"] == "job.progress"
        for step in event["data"]["steps"]
        if step["name"] == "mp4_720p"
    ]
    assert any(0 < p < 1 for p in progress), progress


def test_the_stream_ends_with_the_final_event_and_its_ids_grow(streamed):
    job_id, events = streamed
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "job.succeeded" and all(k == "job.progress" for k in kinds[:-1])
    assert events[-1]["data"]["status"] == "succeeded"
    assert events[-1]["data"]["id"] == job_id
    assert [o["name"] for o in events[-1]["data"]["outputs"]] == ["mp4_720p"]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids))


def test_a_stream_resumed_after_the_end_gets_the_final_event_at_once(api, streamed):
    job_id, events = streamed
    resumed = read_events(api, job_id, **{"Last-Event-ID": events[-2]["id"]})
    assert [e["event"] for e in resumed] == ["job.succeeded"]
    assert resumed[0]["id"] == events[-1]["id"]


def test_another_tenants_stream_is_not_found(cluster, streamed):
    other = json.loads(cluster.pony("tenants", "create", "events-other"))
    with cluster.client(other["api_key"]) as client:
        response = client.get(f"/v1/jobs/{streamed[0]}/events")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
