"""Webhooks from the real worker to a real receiver on loopback: signed per Standard Webhooks,
retried with one ``webhook-id``, never redirected, logged in ``/v1/jobs/{id}/deliveries``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests import factories
from tests.integration.conftest import submit, wait_for
from tests.unit.notify.receiver import Answer, Receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    return factories.make_image(tmp_path_factory.mktemp("webhooks") / "photo.jpg")


def finished_job(api: httpx.Client, photo: Path, webhook_url: str) -> dict[str, Any]:
    job = wait_for(api, submit(api, photo, webhook_url=webhook_url)["id"])
    assert job["status"] == "succeeded", job["error"]
    return job


def delivery_when(
    api: httpx.Client, job_id: str, status: str, *, timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"/v1/jobs/{job_id}/deliveries")
        assert response.status_code == 200, response.text
        (delivery,) = response.json()["items"]
        if delivery["status"] == status:
            return delivery
        time.sleep(0.1)
    pytest.fail(f"the delivery of {job_id} did not become {status}: {delivery}")


def test_a_webhook_is_retried_until_it_arrives_signed_with_one_id(api, tenant, receiver, photo):
    receiver.script("/flaky", Answer(500, body=b"not yet"), Answer(200))
    job = finished_job(api, photo, receiver.url("/flaky"))
    first, second = receiver.wait_for("/flaky", 2)
    for got in (first, second):
        event = Webhook(tenant["webhook_secret"]).verify(got.body, got.headers)
        assert event["type"] == "job.succeeded"
        assert event["data"]["id"] == job["id"]
        assert event["data"]["status"] == "succeeded"
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    delivery = delivery_when(api, job["id"], "delivered")
    assert delivery["id"] == first.headers["webhook-id"]
    assert (delivery["event"], delivery["channel"]) == ("job.succeeded", "webhook")
    assert delivery["target"] == receiver.url("/flaky")
    assert delivery["attempts"] == 2 and delivery["last_status"] == 200
    assert [a["status"] for a in delivery["attempt_log"]] == [500, 200]
    assert delivery["attempt_log"][0]["error"] == "HTTP 500: not yet"


def test_a_receiver_answering_gone_gets_one_attempt(api, receiver, photo):
    receiver.script("/gone", Answer(410))
    job = finished_job(api, photo, receiver.url("/gone"))
    delivery = delivery_when(api, job["id"], "failed")
    time.sleep(1.5)
    assert len(receiver.received("/gone")) == 1
    assert [a["status"] for a in delivery["attempt_log"]] == [410]


def test_a_redirect_is_a_failure_and_is_never_followed(api, receiver, photo):
    receiver.script("/moved", Answer(302, {"Location": receiver.url("/elsewhere")}))
    job = finished_job(api, photo, receiver.url("/moved"))
    delivery = delivery_when(api, job["id"], "failed")
    assert [a["status"] for a in delivery["attempt_log"]] == [302, 302, 302, 302]
    assert "redirects are not followed" in delivery["last_error"]
    assert len(receiver.received("/moved")) == 4
    assert receiver.received("/elsewhere") == []


def test_a_failed_delivery_is_sent_again_on_request_with_the_same_id(api, receiver, photo):
    receiver.script("/later", Answer(410), Answer(204))
    job = finished_job(api, photo, receiver.url("/later"))
    failed = delivery_when(api, job["id"], "failed")
    response = api.post(f"/v1/jobs/{job['id']}/deliveries/{failed['id']}/retry")
    assert response.status_code == 202, response.text
    assert response.json()["id"] == failed["id"]
    assert response.json()["status"] in ("pending", "sending", "delivered")
    delivered = delivery_when(api, job["id"], "delivered")
    assert [a["status"] for a in delivered["attempt_log"]] == [410, 204]
    ids = {got.headers["webhook-id"] for got in receiver.wait_for("/later", 2)}
    assert ids == {failed["id"]}
    missing = api.post(f"/v1/jobs/{job['id']}/deliveries/msg_nope/retry")
    assert missing.status_code == 404


def test_after_a_rotation_both_secrets_sign_for_a_day(cluster, receiver, photo):
    made = json.loads(cluster.pony("tenants", "create", "webhook-rotation"))
    rotated = json.loads(cluster.pony("tenants", "rotate-secret", "webhook-rotation"))
    assert rotated["webhook_secret"] != made["webhook_secret"]
    with cluster.client(made["api_key"]) as api:
        job = finished_job(api, photo, receiver.url("/rotated"))
    (got,) = receiver.wait_for("/rotated", 1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (rotated["webhook_secret"], made["webhook_secret"]):
        assert Webhook(secret).verify(got.body, got.headers)["data"]["id"] == job["id"]
