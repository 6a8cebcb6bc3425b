"""Webhook signatures per the Standard Webhooks specification: ``v1,`` and the base64
HMAC-SHA256 of ``{msg_id}.{timestamp}.{body}``, keyed with the secret's bytes (a ``whsec_``
secret is ``whsec_`` and base64). During a rotation both secrets sign, space-separated, and a
receiver accepts the message when any one signature matches."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (padding may be left off, as the libraries allow)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is 'whsec_' and base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 signature>`` of one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: one signature per secret, current one first."""
    if not secrets:
        raise ValueError("there is no secret to sign with")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)
