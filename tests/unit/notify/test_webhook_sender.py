"""``WebhookSender`` against a real receiver on loopback."""

import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from pipeline.db.deliveries import Delivery, DeliveryStatus
from pipeline.db.repository import new_webhook_secret
from tests.services import free_ports
from tests.unit.notify.receiver import Answer, Receiver
from workers.webhook import USER_AGENT, WebhookSender, parse_retry_after

PAYLOAD = {"type": "job.succeeded", "timestamp": "2025-01-01T00:00:00Z", "data": {"id": "job_1"}}
SECRET = new_webhook_secret()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def delivery(url: str) -> Delivery:
    return Delivery(
        id="msg_01TEST",
        tenant_id="ten_1",
        job_id="job_1",
        event="job.succeeded",
        channel="webhook",
        target=url,
        payload=PAYLOAD,
        status=DeliveryStatus.SENDING,
        attempts=0,
        next_attempt_at=None,
        last_status=None,
        last_error=None,
        created_at=datetime.now(UTC),
    )


def resolving_to(address: str):
    def resolver(host, port, family=0, type=0, proto=0, flags=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return resolver


def test_a_webhook_is_a_signed_compact_json_post(receiver):
    result = WebhookSender(allow_private=True).send(
        delivery(receiver.url("/hook")), PAYLOAD, [SECRET]
    )
    assert result.delivered and result.status == 200
    (got,) = receiver.received("/hook")
    assert got.body == json.dumps(PAYLOAD, separators=(",", ":")).encode()
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == USER_AGENT
    assert got.headers["webhook-id"] == "msg_01TEST"
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 5
    assert Webhook(SECRET).verify(got.body, got.headers) == PAYLOAD


def test_the_request_goes_to_the_checked_address_with_the_original_host_header(receiver):
    sender = WebhookSender(allow_private=True, resolver=resolving_to("127.0.0.1"))
    url = f"http://hooks.pony.invalid:{receiver.port}/pinned"
    assert sender.send(delivery(url), PAYLOAD, [SECRET]).delivered
    (got,) = receiver.received("/pinned")
    assert got.headers["host"] == f"hooks.pony.invalid:{receiver.port}"


def test_a_name_resolving_to_a_private_address_is_refused_at_send_time_and_retried(receiver):
    sender = WebhookSender(allow_private=False, resolver=resolving_to("127.0.0.1"))
    url = f"http://rebind.pony.invalid:{receiver.port}/rebind"
    result = sender.send(delivery(url), PAYLOAD, [SECRET])
    assert not result.delivered and not result.give_up
    assert "not a public address" in (result.error or "")
    assert receiver.received("/rebind") == []


def test_a_private_address_literal_is_refused_at_send_time_for_good(receiver):
    result = WebhookSender(allow_private=False).send(
        delivery(receiver.url("/literal")), PAYLOAD, [SECRET]
    )
    assert not result.delivered and result.give_up
    assert receiver.received("/literal") == []


def test_an_error_answer_is_retried_with_its_body_in_the_log(receiver):
    receiver.script("/boom", Answer(500, body=b"database is down"))
    result = WebhookSender(allow_private=True).send(
        delivery(receiver.url("/boom")), PAYLOAD, [SECRET]
    )
    assert (result.delivered, result.status, result.give_up) == (False, 500, False)
    assert result.error == "HTTP 500: database is down"


def test_gone_gives_up(receiver):
    receiver.script("/gone", Answer(410))
    result = WebhookSender(allow_private=True).send(
        delivery(receiver.url("/gone")), PAYLOAD, [SECRET]
    )
    assert (result.delivered, result.status, result.give_up) == (False, 410, True)


def test_a_redirect_is_a_failure_and_is_not_followed(receiver):
    receiver.script("/moved", Answer(301, {"Location": receiver.url("/elsewhere")}))
    result = WebhookSender(allow_private=True).send(
        delivery(receiver.url("/moved")), PAYLOAD, [SECRET]
    )
    assert (result.delivered, result.status, result.give_up) == (False, 301, False)
    assert "redirects are not followed" in (result.error or "")
    assert receiver.received("/elsewhere") == []


def test_retry_after_is_honoured_on_429_and_503_only(receiver):
    receiver.script("/busy", Answer(429, {"Retry-After": "120"}))
    receiver.script("/down", Answer(503, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}))
    receiver.script("/bad", Answer(500, {"Retry-After": "120"}))
    sender = WebhookSender(allow_private=True)
    assert sender.send(delivery(receiver.url("/busy")), PAYLOAD, [SECRET]).retry_after == 120
    down = sender.send(delivery(receiver.url("/down")), PAYLOAD, [SECRET]).retry_after
    assert down is not None and down > 86400 * 365
    assert sender.send(delivery(receiver.url("/bad")), PAYLOAD, [SECRET]).retry_after is None


def test_retry_after_takes_seconds_or_an_http_date():
    moment = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:00 GMT", now=moment) == 60
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=moment) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_large_answer_is_read_only_up_to_the_cap(receiver):
    receiver.script("/big", Answer(500, body=b"x" * 5_000_000))
    result = WebhookSender(allow_private=True, max_body=1024).send(
        delivery(receiver.url("/big")), PAYLOAD, [SECRET]
    )
    assert result.status == 500 and len(result.error or "") < 300


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_deadline(receiver):
    receiver.script("/slow", Answer(200, drip=0.05))
    started = time.monotonic()
    result = WebhookSender(allow_private=True, timeout=1.0).send(
        delivery(receiver.url("/slow")), PAYLOAD, [SECRET]
    )
    assert time.monotonic() - started < 2.0
    assert not result.delivered and result.error == "no answer within 1 s"


def test_a_closed_port_is_a_failure_not_an_exception():
    (port,) = free_ports(1)
    result = WebhookSender(allow_private=True).send(
        delivery(f"http://127.0.0.1:{port}/"), PAYLOAD, [SECRET]
    )
    assert not result.delivered and not result.give_up
    assert "could not connect" in (result.error or "")


def test_a_name_that_does_not_resolve_is_retried():
    result = WebhookSender(allow_private=False).send(
        delivery("https://nowhere.invalid/hook"), PAYLOAD, [SECRET]
    )
    assert not result.delivered and not result.give_up
    assert "could not resolve" in (result.error or "")


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def https_receiver(tmp_path, monkeypatch) -> Iterator[Receiver]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = self_signed(tmp_path, "hooks.pony.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with Receiver(tls=context) as running:
        yield running


def test_https_to_the_pinned_address_sends_sni_and_checks_the_certificate_by_name(
    https_receiver,
):
    sender = WebhookSender(allow_private=True, resolver=resolving_to("127.0.0.1"))
    url = https_receiver.url("/tls", host="hooks.pony.test")
    assert sender.send(delivery(url), PAYLOAD, [SECRET]).delivered
    assert https_receiver.sni == ["hooks.pony.test"]
    (got,) = https_receiver.received("/tls")
    assert got.headers["host"] == f"hooks.pony.test:{https_receiver.port}"


def test_https_refuses_a_certificate_for_another_name(https_receiver):
    sender = WebhookSender(allow_private=True, resolver=resolving_to("127.0.0.1"))
    url = https_receiver.url("/tls", host="other.pony.test")
    result = sender.send(delivery(url), PAYLOAD, [SECRET])
    assert not result.delivered
    assert "certificate" in (result.error or "").lower()
    assert https_receiver.received("/tls") == []
