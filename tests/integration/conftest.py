"""The production shape for integration tests: ``pony api`` and ``pony worker`` as separate
processes on real PostgreSQL, RabbitMQ and SeaweedFS, and a tenant's HTTP client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services import free_ports

PONY = str(Path(sys.executable).with_name("pony"))
FINAL = {"succeeded", "failed", "canceled"}


@dataclass
class Cluster:
    url: str
    env: dict[str, str]
    logs: Path

    def pony(self, *args: str) -> str:
        done = subprocess.run(
            [PONY, *args], env=self.env, capture_output=True, text=True, timeout=60, check=True
        )
        return done.stdout

    def client(self, api_key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start(
    args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            [PONY, *args],
            env=env,
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_ready(url: str, processes: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            break
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    tails = {log.name: log.read_text()[-3000:] for log in logs.glob("*.log")}
    pytest.fail(f"pony api/worker did not become ready: {tails}")


def pony_env(postgres_url: str, amqp_url: str, s3_url: str, url: str) -> dict[str, str]:
    """This environment plus the PONY_ variables for the production shape on these services."""
    return {
        **os.environ,
        "PONY_DATABASE_URL": postgres_url,
        "PONY_BROKER_URL": amqp_url,
        "PONY_STORAGE_URL": s3_url,
        "PONY_PUBLIC_URL": url,
    }


@pytest.fixture(scope="session")
def cluster(postgres_url, amqp_url, s3_url, smtp_server, tmp_path_factory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("pony-logs")
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    env = {
        **pony_env(postgres_url, amqp_url, s3_url, url),
        "PONY_FFMPEG_DEADLINE": "120",
        "PONY_ALLOW_PRIVATE_WEBHOOKS": "1",
        "PONY_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2",
        "PONY_SMTP_URL": smtp_server.url,
    }
    made = Cluster(url=url, env=env, logs=logs)
    made.pony("db", "upgrade")
    processes = [
        start(["api", "--port", str(port)], env, logs / "api.log"),
        start(["worker", "--threads", "2"], env, logs / "worker.log"),
    ]
    try:
        wait_ready(url, processes, logs)
        yield made
    finally:
        for process in processes:
            stop(process)


@pytest.fixture(scope="session")
def tenant(cluster) -> dict[str, str]:
    return json.loads(cluster.pony("tenants", "create", "acme"))


@pytest.fixture
def api(cluster, tenant) -> Iterator[httpx.Client]:
    with cluster.client(tenant["api_key"]) as client:
        yield client


@pytest.fixture(scope="session")
def dev(tmp_path_factory) -> Iterator[httpx.Client]:
    """``pony dev`` in a folder of its own (SQLite, local objects, auth off), as a client."""
    home = tmp_path_factory.mktemp("dev")
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PONY_")}
    env.update(PONY_PUBLIC_URL=url)
    process = start(["dev", "--port", str(port)], env, home / "dev.log", cwd=home)
    try:
        wait_ready(url, [process], home)
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client
    finally:
        stop(process)


def submit(client: httpx.Client, path: Path, **data: str) -> dict[str, Any]:
    with path.open("rb") as handle:
        response = client.post("/v1/jobs", files={"file": (path.name, handle)}, data=data)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
    return response.json()


def wait_for(client: httpx.Client, job_id: str, *, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in FINAL:
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not end in {timeout} s: {job}")


def download(client: httpx.Client, job: dict[str, Any], name: str, folder: Path) -> Path:
    output = next(o for o in job["outputs"] if o["name"] == name)
    response = client.get(output["url"], follow_redirects=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(output["content_type"])
    path = folder / name
    path.write_bytes(response.content)
    assert path.stat().st_size == output["size"]
    return path
