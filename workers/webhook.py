"""``WebhookSender``: one signed ``POST`` of an event to a job's ``webhook_url``.

The URL is checked again at every attempt and the host resolved here, every address checked,
then the request goes to a checked address (the URL's host replaced by the IP, the original
``Host`` header kept and, for https, SNI and the certificate checked against the host name), so
what was checked is what is connected to. A refused URL gives up (it will not change); a name
that resolves to a refused address is retried on the schedule, since DNS may change, and no
request is ever made to the refused address. Never through a proxy (``trust_env`` is off for
the client; ``SSL_CERT_FILE`` still names the trusted CAs), never following a redirect.

One attempt has one deadline (``timeout``, 15 s) for connecting, TLS, sending and reading: each
socket operation waits at most the time left, and a watchdog shuts the socket at the deadline
so a receiver that drips bytes cannot hold a worker.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pipeline.db.deliveries import Delivery
from pipeline.errors import InvalidWebhookUrl, TransientError
from pipeline.notify.deliver import SendResult
from pipeline.notify.signing import signature_header
from pipeline.notify.ssrf import (
    IPAddress,
    ParsedTarget,
    Resolver,
    check_url,
    resolve_checked,
)

USER_AGENT = "PonyExpress-Webhooks/0.1"
RETRY_AFTER_STATUSES = {429, 503}
LOGGED_BODY = 200
"""Characters of a refusing receiver's answer kept in the attempt log."""


class WebhookSender:
    """Implements ``pipeline.notify.deliver.Sender`` for the ``webhook`` channel."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float = 15.0,
        max_body: int = 65536,
        resolver: Resolver = socket.getaddrinfo,
    ) -> None:
        if timeout <= 0 or max_body < 0:
            raise ValueError("timeout must be > 0 and max_body >= 0")
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_body = max_body
        self.resolver = resolver

    def send(
        self, delivery: Delivery, payload: dict[str, Any], secrets: Sequence[str]
    ) -> SendResult:
        deadline = time.monotonic() + self.timeout
        if not secrets:
            return SendResult(
                delivered=False, error="the tenant has no webhook secret", give_up=True
            )
        try:
            target = check_url(delivery.target, allow_private=self.allow_private)
        except InvalidWebhookUrl as exc:
            return SendResult(delivered=False, error=exc.message, give_up=True)
        try:
            addresses = self._addresses(target)
        except (InvalidWebhookUrl, TransientError) as exc:
            return SendResult(delivered=False, error=exc.message)
        body = json.dumps(payload, separators=(",", ":")).encode()
        return self._post(
            target, addresses, self._headers(delivery.id, secrets, body), body, deadline
        )

    def _addresses(self, target: ParsedTarget) -> list[IPAddress]:
        if target.ip is not None:
            return [target.ip]
        return resolve_checked(
            target.host, target.port, allow_private=self.allow_private, resolver=self.resolver
        )

    @staticmethod
    def _headers(msg_id: str, secrets: Sequence[str], body: bytes) -> dict[str, str]:
        timestamp = int(time.time())
        return {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        }

    def _post(
        self,
        target: ParsedTarget,
        addresses: list[IPAddress],
        headers: dict[str, str],
        body: bytes,
        deadline: float,
    ) -> SendResult:
        """Try the checked addresses in turn until one takes the connection."""
        error = "no address to connect to"
        for ip in addresses:
            watchdog = Watchdog(deadline)
            try:
                return self._post_to(target, ip, headers, body, watchdog)
            except httpx.ConnectError as exc:
                error = f"could not connect to {ip}: {exc}"
            except httpx.HTTPError as exc:
                if watchdog.expired or isinstance(exc, httpx.TimeoutException):
                    return SendResult(delivered=False, error=f"no answer within {self.timeout:g} s")
                return SendResult(delivered=False, error=f"{type(exc).__name__}: {exc}")
            finally:
                watchdog.cancel()
            if time.monotonic() >= deadline:
                break
        return SendResult(delivered=False, error=error)

    def _post_to(
        self,
        target: ParsedTarget,
        ip: IPAddress,
        headers: dict[str, str],
        body: bytes,
        watchdog: Watchdog,
    ) -> SendResult:
        extensions: dict[str, Any] = {"trace": watchdog.trace}
        if target.ip is None and target.scheme == "https":
            extensions["sni_hostname"] = target.host
        with httpx.Client(
            transport=httpx.HTTPTransport(retries=0),
            trust_env=False,
            follow_redirects=False,
            timeout=max(0.001, watchdog.left()),
        ) as client:
            request = client.build_request(
                "POST",
                target.url_for(ip),
                content=body,
                headers={**headers, "host": target.host_header},
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                answer = self._read_capped(response)
            finally:
                response.close()
        return _result(response, answer)

    def _read_capped(self, response: httpx.Response) -> bytes:
        """At most ``max_body`` bytes of the answer (only for the log)."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.max_body:
                break
        return b"".join(chunks)[: self.max_body]


class Watchdog:
    """The attempt's deadline: how long is left, and the connection's socket shut when it
    passes (httpx's timeouts are per operation, not per request)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, self.left()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's ``trace`` extension: keep the socket once connected (and after TLS)."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._socket = sock
            if self.expired:
                self._expire()

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        self.expired = True
        with self._lock:
            sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _result(response: httpx.Response, answer: bytes) -> SendResult:
    status = response.status_code
    if 200 <= status < 300:
        return SendResult(delivered=True, status=status)
    text = answer.decode("utf-8", errors="replace").strip()[:LOGGED_BODY]
    if 300 <= status < 400:
        where = response.headers.get("location", "")
        error = f"HTTP {status}: redirects are not followed ({where[:LOGGED_BODY]})"
    else:
        error = f"HTTP {status}" + (f": {text}" if text else "")
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
    return SendResult(
        delivered=False, status=status, error=error, retry_after=retry_after, give_up=status == 410
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delay-seconds or an HTTP date; ``None`` when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
