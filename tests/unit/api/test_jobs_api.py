import json

from fastapi.testclient import TestClient

from api.app import create_app
from tests.unit.api.conftest import RefusingDispatcher, make_services

JPEG = b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10


def post(client, content=JPEG, headers=None, **data):
    files = {"file": ("holiday photo.jpg", content, "image/jpeg")}
    return client.post("/v1/jobs", files=files, data=data, headers=headers or {})


def test_a_request_without_a_key_gets_a_401_problem_document(client):
    response = client.get("/v1/jobs", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unauthorized" and body["status"] == 401 and body["title"]


def test_a_job_is_accepted_stored_and_its_probe_dispatched(client, services, dispatcher):
    response = post(client, metadata=json.dumps({"order": 42}))
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "queued" and job["pipeline"] == "auto"
    assert job["metadata"] == {"order": 42}
    assert job["source"]["filename"] == "holiday photo.jpg"
    assert job["source"]["size"] == len(JPEG)
    assert [s["name"] for s in job["steps"]] == ["probe"]
    assert dispatcher.sent == [(job["id"], "probe", "light")]
    assert any(key.endswith(f"/{job['id']}/original") for key in services.objects.objects)


def test_a_broker_that_refuses_gives_503_and_leaves_no_job_behind(tmp_path):
    services = make_services(tmp_path, RefusingDispatcher())
    key = services.store.create_tenant("c").api_key
    with TestClient(create_app(services)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        response = post(client)
        assert response.status_code == 503
        assert response.json()["code"] == "broker_unavailable"
        assert client.get("/v1/jobs").json()["items"] == []
    assert services.objects.objects == {}


def test_an_upload_over_the_limit_is_refused_with_413(tmp_path, dispatcher):
    services = make_services(tmp_path, dispatcher, max_upload_bytes=100)
    key = services.store.create_tenant("c").api_key
    with TestClient(create_app(services)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        response = post(client, content=b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert dispatcher.sent == []


def test_an_invalid_pipeline_is_refused_with_422_naming_the_step(client, dispatcher):
    document = {"steps": {"small": {"op": "image.thumbnail", "use": ":original", "size": 3}}}
    response = post(client, pipeline=json.dumps(document))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_pipeline" and body["step"] == "small"
    assert "small" in body["detail"]
    assert dispatcher.sent == []


def test_an_unknown_preset_and_bad_metadata_are_422(client):
    assert post(client, pipeline="nope").json()["code"] == "invalid_pipeline"
    assert post(client, metadata="[1, 2]").json()["code"] == "invalid_request"


def test_email_is_refused_clearly_when_no_smtp_is_configured(client):
    response = post(client, notify_email="me@example.com")
    assert response.status_code == 422
    assert "PONY_SMTP_URL" in response.json()["detail"]


def test_the_same_idempotency_key_returns_the_same_job_and_starts_nothing(client, dispatcher):
    first = post(client, headers={"Idempotency-Key": "k1"}).json()
    second = post(client, headers={"Idempotency-Key": "k1"}).json()
    assert first["id"] == second["id"]
    assert len(dispatcher.sent) == 1


def test_a_tenant_never_sees_another_tenants_job(client, keys):
    job = post(client).json()
    other = {"Authorization": f"Bearer {keys[1]}"}
    assert client.get(f"/v1/jobs/{job['id']}", headers=other).status_code == 404
    assert client.get("/v1/jobs", headers=other).json()["items"] == []
    assert client.delete(f"/v1/jobs/{job['id']}", headers=other).status_code == 404


def test_cancel_ends_a_job_once(client):
    job = post(client).json()
    canceled = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["steps"][0]["status"] == "canceled"
    again = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert again.status_code == 409


def test_delete_removes_the_job_and_its_objects(client, services):
    job = post(client).json()
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 404
    assert not any(job["id"] in key for key in services.objects.objects)


def test_jobs_list_pages_with_a_cursor(client):
    ids = [post(client).json()["id"] for _ in range(3)]
    first = client.get("/v1/jobs", params={"limit": 2}).json()
    second = client.get("/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [j["id"] for j in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None


def test_presets_and_openapi_are_published(client):
    names = [p["name"] for p in client.get("/v1/pipelines").json()["items"]]
    assert names[0] == "auto" and {"image", "video", "audio"} <= set(names)
    assert "/v1/jobs" in client.get("/openapi.json").json()["paths"]
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
