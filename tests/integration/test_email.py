"""Email notifications over real SMTP: ``MailSender`` against aiosmtpd servers (plain, STARTTLS
with login, implicit TLS, and ones that answer 4xx and 5xx), and a job through the running
service that ends in a mail."""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from pipeline.db.deliveries import Delivery
from pipeline.notify.deliver import SendResult
from tests import factories
from tests.integration.conftest import submit, wait_for
from tests.services import LOCALHOST, free_ports, smtp_controller, unavailable
from workers.mailer import MailSender

pytestmark = pytest.mark.integration

RECIPIENT = "someone@example.com"
SENDER = "pony@example.com"
USER, PASSWORD = "pony@example.com", "p:ss/w@rd %"
JOB_ID = "job_01J0000000000000000000000"


def document(**changes: Any) -> dict[str, Any]:
    outputs = f"http://127.0.0.1:8000/v1/jobs/{JOB_ID}/outputs"
    base: dict[str, Any] = {
        "id": JOB_ID,
        "status": "succeeded",
        "progress": 1.0,
        "pipeline": "auto",
        "source": {"filename": "evil\r\nBcc: x@y.z.mov", "size": 10, "content_type": "image/png"},
        "media": {"kind": "image"},
        "steps": [],
        "outputs": [
            {"name": "thumb_320", "content_type": "image/jpeg", "size": 2048,
             "url": f"{outputs}/thumb_320"},
        ],
        "error": None,
        "metadata": {},
    }  # fmt: skip
    return base | changes


def payload(**changes: Any) -> dict[str, Any]:
    return {
        "type": "job.succeeded",
        "timestamp": "2024-05-01T10:00:00Z",
        "data": document(**changes),
    }


def delivery(target: str = RECIPIENT) -> Delivery:
    return Delivery(
        id="msg_test",
        tenant_id="acme",
        job_id=JOB_ID,
        event="job.succeeded",
        channel="email",
        target=target,
        payload=None,
        status="sending",
        attempts=0,
        next_attempt_at=None,
        last_status=None,
        last_error=None,
        created_at=datetime.now(UTC),
    )


# An SMTP server whose answers the test chooses


@dataclass
class Received:
    rcpt_tos: list[str]
    mail_from: str
    message: EmailMessage


@dataclass
class ScriptedHandler:
    """Answers ``failures`` (in order) to RCPT or DATA, then accepts; keeps what it accepted."""

    at: str = "DATA"
    failures: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: object, session: object, envelope: Any, address: str, options: object
    ) -> str:
        if self.at == "RCPT" and self.failures:
            return self.failures.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        if self.at == "DATA" and self.failures:
            return self.failures.pop(0)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(list(envelope.rcpt_tos), envelope.mail_from, message))
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def running(handler: ScriptedHandler, **options: Any) -> Iterator[int]:
    """An aiosmtpd server on a free loopback port; yields the port."""
    (port,) = free_ports(1)
    with smtp_controller(handler, port=port, **options):
        yield port


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    made = Certificate(cert=folder / "cert.pem", key=folder / "key.pem")
    command = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-keyout", str(made.key), "-out", str(made.cert), "-subj", f"/CN={LOCALHOST}",
        "-addext", f"subjectAltName=IP:{LOCALHOST}",
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        unavailable(f"cannot make a TLS certificate with openssl: {exc}")
    return made


def authenticate(server: object, session: object, envelope: object, mechanism: str, data: Any):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


# MailSender


def test_a_composed_message_arrives_with_both_parts_and_the_right_headers(smtp_server):
    before = len(smtp_server.messages)
    sender = MailSender(
        smtp_url=smtp_server.url,
        mail_from=SENDER,
        timeout=10,
        public_url="https://media.example.com",
    )
    assert sender.send(delivery(), payload(), []) == SendResult(delivered=True, status=250)
    ours = [
        m
        for m in smtp_server.wait_for_messages(before + 1)
        if m["Message-ID"] == f"<{JOB_ID}.job.succeeded@media.example.com>"
    ]
    assert len(ours) == 1
    message = ours[0]
    assert message["Subject"] == f"Job {JOB_ID} succeeded: evilBcc: x@y.z.mov"
    assert (message["From"], message["To"], message["Bcc"]) == (SENDER, RECIPIENT, None)
    assert message["Date"] == "Wed, 01 May 2024 10:00:00 +0000"
    text, markup = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and markup is not None
    link = f"http://127.0.0.1:8000/v1/jobs/{JOB_ID}/outputs/thumb_320"
    assert f"- thumb_320 (image/jpeg, 2.0 KiB): {link}" in text.get_content().splitlines()
    assert f'<a href="{link}">thumb_320</a>' in markup.get_content()


def test_the_envelope_goes_to_the_delivery_target_only():
    handler = ScriptedHandler()
    with running(handler) as port:
        sender = MailSender(smtp_url=f"smtp://{LOCALHOST}:{port}", mail_from=SENDER, timeout=10)
        assert sender.send(delivery(), payload(), []).delivered
    (got,) = handler.received
    assert (got.rcpt_tos, got.mail_from) == ([RECIPIENT], SENDER)
    assert got.message["Message-ID"] == f"<{JOB_ID}.job.succeeded@pony.local>"


@pytest.mark.parametrize("at", ["RCPT", "DATA"])
def test_a_4xx_answer_is_retried_and_the_next_attempt_delivers(at):
    handler = ScriptedHandler(at=at, failures=["451 4.3.0 Try again later"])
    with running(handler) as port:
        sender = MailSender(smtp_url=f"smtp://{LOCALHOST}:{port}", mail_from=SENDER, timeout=10)
        first = sender.send(delivery(), payload(), [])
        second = sender.send(delivery(), payload(), [])
    assert (first.delivered, first.give_up, first.status) == (False, False, 451)
    assert first.error is not None and "Try again later" in first.error
    assert second.delivered
    assert len(handler.received) == 1


@pytest.mark.parametrize("at", ["RCPT", "DATA"])
def test_a_5xx_answer_gives_up(at):
    handler = ScriptedHandler(at=at, failures=["550 5.1.1 No such user"])
    with running(handler) as port:
        sender = MailSender(smtp_url=f"smtp://{LOCALHOST}:{port}", mail_from=SENDER, timeout=10)
        result = sender.send(delivery(), payload(), [])
    assert (result.delivered, result.give_up, result.status) == (False, True, 550)
    assert handler.received == []


def test_a_refused_connection_is_retried():
    (port,) = free_ports(1)
    sender = MailSender(smtp_url=f"smtp://{LOCALHOST}:{port}", mail_from=SENDER, timeout=5)
    result = sender.send(delivery(), payload(), [])
    assert (result.delivered, result.give_up) == (False, False)
    assert result.error is not None and "Refused" in result.error


def test_a_server_that_never_answers_times_out_and_is_retried():
    with socket.socket() as silent:
        silent.bind((LOCALHOST, 0))
        silent.listen()
        port = silent.getsockname()[1]
        sender = MailSender(smtp_url=f"smtp://{LOCALHOST}:{port}", mail_from=SENDER, timeout=0.5)
        started = time.monotonic()
        result = sender.send(delivery(), payload(), [])
    assert time.monotonic() - started < 5
    assert (result.delivered, result.give_up) == (False, False)
    assert result.error is not None and "timed out" in result.error


def test_starttls_and_login_with_a_percent_encoded_password(certificate):
    handler = ScriptedHandler()
    options = {"tls_context": certificate.server_context(), "require_starttls": True}
    with running(handler, authenticator=authenticate, **options) as port:
        url = f"smtp://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@{LOCALHOST}:{port}"
        sender = MailSender(
            smtp_url=f"{url}?starttls=true",
            mail_from=SENDER,
            timeout=10,
            ssl_context=certificate.client_context(),
        )
        assert sender.send(delivery(), payload(), []).delivered
        wrong = MailSender(
            smtp_url=f"smtp://{quote(USER, safe='')}:nope@{LOCALHOST}:{port}?starttls=true",
            mail_from=SENDER,
            timeout=10,
            ssl_context=certificate.client_context(),
        )
        refused = wrong.send(delivery(), payload(), [])
    assert len(handler.received) == 1
    assert (refused.delivered, refused.give_up, refused.status) == (False, True, 535), refused
    assert "nope" not in (refused.error or "")


def test_without_starttls_a_server_that_requires_it_refuses(certificate):
    handler = ScriptedHandler()
    options = {"tls_context": certificate.server_context(), "require_starttls": True}
    with running(handler, **options) as port:
        sender = MailSender(smtp_url=f"smtp://{LOCALHOST}:{port}", mail_from=SENDER, timeout=10)
        result = sender.send(delivery(), payload(), [])
    assert not result.delivered and result.status == 530 and result.give_up
    assert handler.received == []


def test_implicit_tls_with_smtps(certificate):
    handler = ScriptedHandler()
    with running(handler, ssl_context=certificate.server_context()) as port:
        sender = MailSender(
            smtp_url=f"smtps://{LOCALHOST}:{port}",
            mail_from=SENDER,
            timeout=10,
            ssl_context=certificate.client_context(),
        )
        assert sender.send(delivery(), payload(), []).delivered
        untrusting = MailSender(
            smtp_url=f"smtps://{LOCALHOST}:{port}", mail_from=SENDER, timeout=10
        )
        unverified = untrusting.send(delivery(), payload(), [])
    assert len(handler.received) == 1
    assert (unverified.delivered, unverified.give_up) == (False, False)
    assert unverified.error is not None and "certificate" in unverified.error.lower()


# Through the running service


def test_a_finished_job_sends_an_email_with_links_to_its_outputs(
    cluster, api, smtp_server, tmp_path
):
    picture = factories.make_image(tmp_path / "clip.png", size=(64, 48), mode="RGB", fmt="PNG")
    job = wait_for(api, submit(api, picture, notify_email=RECIPIENT)["id"])
    assert job["status"] == "succeeded", job["error"]
    message = wait_for_mail(smtp_server, f"<{job['id']}.job.succeeded@", timeout=30)
    assert message["Subject"] == f"Job {job['id']} succeeded: clip.png"
    assert message["To"] == RECIPIENT
    text = message.get_body(("plain",))
    assert text is not None
    lines = text.get_content().splitlines()
    assert job["outputs"]
    for output in job["outputs"]:
        assert output["url"] == f"{cluster.url}/v1/jobs/{job['id']}/outputs/{output['name']}"
        assert any(line.endswith(f": {output['url']}") for line in lines), lines


def wait_for_mail(smtp_server, id_prefix: str, *, timeout: float) -> EmailMessage:
    """The one message whose ``Message-ID`` starts with ``id_prefix``, once it has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in list(smtp_server.messages) if m["Message-ID"].startswith(id_prefix)]
        if found:
            assert len(found) == 1, "one event, one email"
            return found[0]
        time.sleep(0.2)
    ids = [m["Message-ID"] for m in smtp_server.messages]
    pytest.fail(f"no mail {id_prefix}... in {timeout} s; got {ids}")
