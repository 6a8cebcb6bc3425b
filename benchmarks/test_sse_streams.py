"""The database load of 100 open event streams on one running job.

Run: ``.venv/bin/pytest benchmarks/test_sse_streams.py -s`` (``BENCH_STREAMS`` sets the count).

Its own ``pony api`` and workers on a private PostgreSQL database, RabbitMQ vhost and SeaweedFS
(the integration fixtures). The job is a 1280x720 clip through one ``video.transcode`` step:

1. *idle*: the API and a ``--queues light`` worker, no job, no stream.
2. *quiet*: the probe has run (the job is ``running``), the transcode waits on the ``heavy``
   queue with no heavy worker, and 100 streams follow the job: nothing changes.
3. *transcode, 100 streams*: a ``--queues heavy`` worker starts; until the job ends.
4. *transcode, 1 stream*: the heavy worker stops; a second job of the same clip gets as far
   as the first, one stream follows it, and a new heavy worker starts; until the job ends.

Load is transactions per second on the test database (``xact_commit + xact_rollback`` from
``pg_stat_database``: SQLAlchemy ends every read with a rollback), less this script's own
sampling. PostgreSQL 15 publishes an idle backend's counters up to 10 s late, so each window
waits ``SETTLE`` seconds before its last sample and counts that wait at the idle rate (the
workers' delivery ticker). Nothing polls the job inside a window.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from pipeline.feed import libpq_url
from tests.factories import make_video
from tests.integration.conftest import PONY, pony_env, start, stop, submit, wait_ready
from tests.services import free_ports

STREAMS = int(os.environ.get("BENCH_STREAMS", "100"))
QUIET = 20.0
SETTLE = 12.0
TRANSCODE = {"steps": {"mp4_720p": {"op": "video.transcode", "use": ":original", "height": 720}}}
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    logs: Path
    api_pid: int
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def worker(self, queue: str) -> None:
        args = ["worker", "--queues", queue, "--threads", "2"]
        self.workers.append(start(args, self.env, self.logs / f"worker-{queue}.log"))


@pytest.fixture(scope="module")
def stack(postgres_url, amqp_url, s3_url, tmp_path_factory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("sse-logs")
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    env = pony_env(postgres_url, amqp_url, s3_url, url)
    subprocess.run([PONY, "db", "upgrade"], env=env, check=True, capture_output=True)
    api = start(["api", "--port", str(port)], env, logs / "api.log")
    made = Stack(url=url, env=env, logs=logs, api_pid=api.pid)
    try:
        made.worker("light")
        wait_ready(url, [api, *made.workers], logs)
        yield made
    finally:
        for process in [*made.workers, api]:
            stop(process)


class Load:
    """Transactions on one database, and CPU seconds of one process, between two samples."""

    OWN = 2  # each sample is two transactions of this script's connection

    def __init__(self, database_url: str, pid: int) -> None:
        self.conn = psycopg.connect(libpq_url(database_url), autocommit=True)
        self.name = database_url.rsplit("/", 1)[1]
        self.pid = pid
        self.idle_rate = 0.0

    def sample(self) -> tuple[float, int, float]:
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
            (self.name,),
        ).fetchone()
        assert row is not None
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        return time.monotonic(), int(row[0]), cpu

    @contextmanager
    def window(self, rows: dict[str, dict[str, float]], name: str) -> Iterator[None]:
        """Measure the block; then wait ``SETTLE`` s for the counters, and count that wait at
        the idle rate (``seconds`` and ``tx/s`` are for the block alone)."""
        first = self.sample()
        yield
        active = time.monotonic() - first[0]
        time.sleep(SETTLE)
        last = self.sample()
        total = last[1] - first[1] - self.OWN - self.idle_rate * SETTLE
        rows[name] = {
            "seconds": active,
            "tx": total,
            "tx_per_s": total / active,
            "api_cpu_pct": 100 * (last[2] - first[2]) / active,
        }


class Followers:
    """``count`` threads, each following the job's event stream until it closes."""

    def __init__(self, url: str, api_key: str, job_id: str, count: int) -> None:
        self.events = [0] * count
        self.final: list[str | None] = [None] * count
        self.opened = threading.Semaphore(0)
        self.threads = [
            threading.Thread(target=self._follow, args=(url, api_key, job_id, i), daemon=True)
            for i in range(count)
        ]
        for thread in self.threads:
            thread.start()
        for _ in self.threads:
            assert self.opened.acquire(timeout=60), "a stream did not open"

    def _follow(self, url: str, api_key: str, job_id: str, index: int) -> None:
        headers = {"Authorization": f"Bearer {api_key}"}
        timeout = httpx.Timeout(30, read=120)
        with (
            httpx.Client(base_url=url, headers=headers, timeout=timeout) as client,
            client.stream("GET", f"/v1/jobs/{job_id}/events") as response,
        ):
            assert response.status_code == 200
            self.opened.release()
            for line in response.iter_lines():
                if line.startswith("event: "):
                    self.events[index] += 1
                    self.final[index] = line.removeprefix("event: ")

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=300)


def wait_until(
    client: httpx.Client, job_id: str, test, *, timeout: float = 300, poll: float = 0.5
) -> dict:
    """Poll the job until ``test`` holds (outside the measured windows)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if test(job):
            return job
        time.sleep(poll)
    pytest.fail(f"job {job_id} is stuck: {job}")


def transcode_waiting(job: dict) -> bool:
    return any(s["name"] == "mp4_720p" and s["status"] == "queued" for s in job["steps"])


def test_a_hundred_streams_on_one_job(stack, tmp_path):
    tenant = json.loads(
        subprocess.run(
            [PONY, "tenants", "create", "bench"], env=stack.env, check=True, capture_output=True
        ).stdout
    )
    clip = make_video(tmp_path / "clip.mp4", size=(1280, 720), duration=20.0)
    load = Load(stack.env["PONY_DATABASE_URL"], stack.api_pid)
    rows: dict[str, dict[str, float]] = {}
    headers = {"Authorization": f"Bearer {tenant['api_key']}"}
    with httpx.Client(base_url=stack.url, headers=headers, timeout=60) as api:
        time.sleep(SETTLE)
        first = load.sample()
        time.sleep(QUIET)
        idle = load.sample()
        load.idle_rate = (idle[1] - first[1] - load.OWN) / (idle[0] - first[0])
        rows["idle: no job, no stream"] = {
            "seconds": idle[0] - first[0],
            "tx": idle[1] - first[1] - load.OWN,
            "tx_per_s": load.idle_rate,
            "api_cpu_pct": 100 * (idle[2] - first[2]) / (idle[0] - first[0]),
        }

        job_id = submit(api, clip, pipeline=json.dumps(TRANSCODE))["id"]
        wait_until(api, job_id, transcode_waiting)
        time.sleep(SETTLE)
        with load.window(rows, f"opening {STREAMS} streams"):
            followers = Followers(stack.url, tenant["api_key"], job_id, STREAMS)
        with load.window(rows, f"quiet: running job, {STREAMS} streams"):
            time.sleep(QUIET)
        with load.window(rows, f"transcode: {STREAMS} streams"):
            stack.worker("heavy")
            followers.join()
        assert set(followers.final) == {"job.succeeded"}, followers.final
        events = sorted(followers.events)

        stop(stack.workers.pop())
        second = submit(api, clip, pipeline=json.dumps(TRANSCODE))["id"]
        wait_until(api, second, transcode_waiting)
        one = Followers(stack.url, tenant["api_key"], second, 1)
        time.sleep(SETTLE)
        with load.window(rows, "transcode: 1 stream"):
            stack.worker("heavy")
            one.join()
        assert one.final == ["job.succeeded"]

    print(f"\n{STREAMS} event streams on one job (1280x720 20 s clip, one video.transcode step)")
    print(f"{'window':36}{'seconds':>9}{'tx':>8}{'tx/s':>8}{'api CPU %':>11}")
    for name, row in rows.items():
        print(
            f"{name:36}{row['seconds']:9.1f}{row['tx']:8.0f}{row['tx_per_s']:8.2f}"
            f"{row['api_cpu_pct']:11.1f}"
        )
    print(
        f"events per stream: min {events[0]}, median {events[len(events) // 2]}, max {events[-1]}"
    )
