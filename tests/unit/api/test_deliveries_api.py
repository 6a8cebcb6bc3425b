from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Services
from pipeline.db.deliveries import DeliveryStatus, DeliveryStore
from pipeline.jobs import JobStatus
from tests.unit.api.conftest import make_services
from tests.unit.api.test_jobs_api import post

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def private_services(tmp_path, dispatcher) -> Services:
    return make_services(tmp_path, dispatcher, allow_private_webhooks=True)


@pytest.fixture
def private_client(private_services) -> Iterator[TestClient]:
    key = private_services.store.create_tenant("p").api_key
    with TestClient(create_app(private_services)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {key}"
        yield test_client


def ended_job(client: TestClient, services: Services) -> str:
    job_id: str = post(client, webhook_url=HOOK).json()["id"]
    services.store.finish_job(job_id, JobStatus.FAILED)
    return job_id


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/hook",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
        "https://user:pass@example.com/",
        "ftp://example.com/",
    ],
)
def test_a_webhook_url_we_will_not_call_is_refused_with_422(client, url):
    response = post(client, webhook_url=url)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_webhook_url"
    assert client.get("/v1/jobs").json()["items"] == []


def test_a_public_webhook_url_is_taken(client):
    response = post(client, webhook_url="https://hooks.example.com/pony")
    assert response.status_code == 202
    assert response.json()["webhook_url"] == "https://hooks.example.com/pony"


def test_private_webhooks_can_be_allowed_but_other_schemes_still_cannot(private_client):
    assert post(private_client, webhook_url=HOOK).status_code == 202
    assert post(private_client, webhook_url="file:///etc/passwd").status_code == 422


def test_an_ended_job_lists_its_pending_webhook_delivery(private_client, private_services):
    job_id = ended_job(private_client, private_services)
    response = private_client.get(f"/v1/jobs/{job_id}/deliveries")
    assert response.status_code == 200
    (delivery,) = response.json()["items"]
    assert delivery["id"].startswith("msg_")
    assert (delivery["event"], delivery["channel"], delivery["target"]) == (
        "job.failed", "webhook", HOOK,
    )  # fmt: skip
    assert (delivery["status"], delivery["attempts"], delivery["attempt_log"]) == (
        "pending", 0, [],
    )  # fmt: skip


def test_a_failed_delivery_is_made_due_again_by_retry(private_client, private_services):
    job_id = ended_job(private_client, private_services)
    store = DeliveryStore(private_services.store.engine)
    (delivery_id,) = store.claim_due(now=datetime.now(UTC), lease=timedelta(minutes=1))
    moment = datetime.now(UTC)
    store.record_attempt(
        delivery_id, at=moment, status=410, error="HTTP 410", duration_ms=3,
        next_attempt_at=None, outcome=DeliveryStatus.FAILED,
    )  # fmt: skip
    failed = private_client.get(f"/v1/jobs/{job_id}/deliveries").json()["items"][0]
    assert failed["status"] == "failed" and failed["last_status"] == 410
    assert failed["attempt_log"][0]["status"] == 410
    response = private_client.post(f"/v1/jobs/{job_id}/deliveries/{delivery_id}/retry")
    assert response.status_code == 202
    again = response.json()
    assert again["status"] == "pending" and again["attempts"] == 1
    assert datetime.fromisoformat(again["next_attempt_at"]) <= datetime.now(UTC)
    assert store.claim_due(now=datetime.now(UTC), lease=timedelta(minutes=1)) == [delivery_id]


def test_a_delivery_being_sent_cannot_be_retried(private_client, private_services):
    job_id = ended_job(private_client, private_services)
    store = DeliveryStore(private_services.store.engine)
    (delivery_id,) = store.claim_due(now=datetime.now(UTC), lease=timedelta(minutes=1))
    response = private_client.post(f"/v1/jobs/{job_id}/deliveries/{delivery_id}/retry")
    assert response.status_code == 409


def test_deliveries_of_another_tenants_job_are_not_found(private_client, private_services):
    job_id = ended_job(private_client, private_services)
    (delivery,) = private_client.get(f"/v1/jobs/{job_id}/deliveries").json()["items"]
    other = private_services.store.create_tenant("q").api_key
    headers = {"Authorization": f"Bearer {other}"}
    assert private_client.get(f"/v1/jobs/{job_id}/deliveries", headers=headers).status_code == 404
    retry = f"/v1/jobs/{job_id}/deliveries/{delivery['id']}/retry"
    assert private_client.post(retry, headers=headers).status_code == 404
    assert private_client.post(f"/v1/jobs/{job_id}/deliveries/msg_x/retry").status_code == 404
