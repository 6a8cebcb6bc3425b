"""The email ``Sender``: one SMTP session per attempt, per ``PONY_SMTP_URL``.

``smtp://[user:pass@]host[:port]`` (port 25; ``?starttls=true`` upgrades the connection first)
or ``smtps://[user:pass@]host[:port]`` (implicit TLS, port 465). What the server answers decides
what happens next (``outcome``):

- delivered: ``send_message`` returned;
- retried by the delivery schedule: 4xx replies, connection refused, timeouts, TLS failures,
  a dropped connection;
- given up: 5xx replies (a permanent rejection, bad credentials), a server without the
  STARTTLS or AUTH we were told to use, a message we cannot compose.

The password never reaches a log line, an error text or a ``repr``.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pipeline.db.deliveries import Delivery
from pipeline.notify.deliver import SendResult
from pipeline.notify.email import compose, message_id_domain

log = logging.getLogger("pony.mailer")
PORTS = {"smtp": 25, "smtps": 465}
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    """Where and how to send: a parsed ``PONY_SMTP_URL``."""

    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}" + (
            "?starttls=true" if self.starttls else ""
        )


def parse_smtp_url(url: str) -> SmtpConfig:
    """Read ``PONY_SMTP_URL``; ``ValueError`` (never quoting the password) when it is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in PORTS:
        raise ValueError("PONY_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("PONY_SMTP_URL names no host")
    try:
        port = parts.port or PORTS[parts.scheme]
    except ValueError:
        raise ValueError("PONY_SMTP_URL has an invalid port") from None
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - {"starttls"}
    if unknown:
        raise ValueError(f"PONY_SMTP_URL: unknown option(s) {', '.join(sorted(unknown))}")
    starttls = options.get("starttls", "").lower()
    if starttls not in TRUE | FALSE:
        raise ValueError("PONY_SMTP_URL: starttls must be true or false")
    if starttls in TRUE and parts.scheme == "smtps":
        raise ValueError("PONY_SMTP_URL: smtps:// is TLS already; starttls is for smtp://")
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls in TRUE,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class MailSender:
    """Sends a job event to ``delivery.target`` (one address)."""

    def __init__(
        self,
        *,
        smtp_url: str,
        mail_from: str,
        timeout: float = 30.0,
        public_url: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``public_url`` gives the ``Message-ID`` domain (else ``pony.local``); ``ssl_context``
        replaces the default, certificate-checking one (tests trust their own CA with it)."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.config = parse_smtp_url(smtp_url)
        self.mail_from = mail_from
        self.timeout = timeout
        self.domain = message_id_domain(public_url)
        self.ssl_context = ssl_context or ssl.create_default_context()
        if self.config.username and not (self.config.implicit_tls or self.config.starttls):
            log.warning(
                "%s logs in without TLS: the password crosses the network in clear", self.config
            )

    def send(
        self, delivery: Delivery, payload: dict[str, Any], secrets: Sequence[str]
    ) -> SendResult:
        try:
            message = compose(
                payload, to=delivery.target, mail_from=self.mail_from, message_id_domain=self.domain
            )
        except (ValueError, KeyError, TypeError) as exc:
            return SendResult(
                delivered=False, error=f"cannot compose the email: {exc}", give_up=True
            )
        try:
            self._transmit(message, delivery.target)
        except OSError as exc:  # smtplib.SMTPException is an OSError, as are ssl and socket errors
            result = outcome(exc)
            log.info(
                "email %s to %s via %s: %s", delivery.id, delivery.target, self.config, result.error
            )
            return result
        return SendResult(delivered=True, status=250)

    def _transmit(self, message: EmailMessage, recipient: str) -> None:
        smtp = self._connect()
        try:
            if self.config.starttls:
                smtp.starttls(context=self.ssl_context)
            if self.config.username:
                smtp.login(self.config.username, self.config.password or "")
            smtp.send_message(message, from_addr=self.mail_from, to_addrs=[recipient])
        finally:
            _close(smtp)

    def _connect(self) -> smtplib.SMTP:
        host, port = self.config.host, self.config.port
        if self.config.implicit_tls:
            return smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=self.ssl_context)
        return smtplib.SMTP(host, port, timeout=self.timeout)


def outcome(exc: OSError) -> SendResult:
    """What a failed attempt means: retry (4xx, network) or give up (5xx, missing extension)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (-1, b"recipient refused"))
        return _reply(code, reply)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendResult(delivered=False, error=f"SMTP server: {exc}", give_up=True)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendResult(delivered=False, error=f"SMTP server disconnected: {exc}")
    if isinstance(exc, TimeoutError):
        return SendResult(delivered=False, error="SMTP server timed out")
    return SendResult(delivered=False, error=f"{type(exc).__name__}: {exc}")


def _reply(code: int, reply: bytes | str) -> SendResult:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return SendResult(
        delivered=False,
        status=code if code > 0 else None,
        error=f"SMTP {code} {text}"[:500],
        give_up=500 <= code < 600,
    )


def _close(smtp: smtplib.SMTP) -> None:
    """Say QUIT politely; the message's fate is already decided, so any error here is ignored."""
    with contextlib.suppress(OSError):
        smtp.quit()
    smtp.close()
