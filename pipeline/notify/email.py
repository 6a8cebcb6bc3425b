"""The email sent when a job ends: subject, text and HTML parts, stable ``Message-ID``.

Pure: builds an ``EmailMessage`` from the event payload ``{"type", "timestamp", "data": Job}``;
``workers.mailer`` sends it. User strings (file names, output names, metadata, error messages)
reach a header only with control characters removed, and the HTML part only through
``html.escape``.
"""

from __future__ import annotations

import email.policy
import email.utils
import html
import json
import re
import unicodedata
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DOMAIN = "pony.local"
MAX_SUBJECT_NAME = 80
MAX_FIELD = 500
MAX_METADATA = 2000
_DOMAIN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_ID_PART = re.compile(r"[^A-Za-z0-9_.-]")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def message_id_domain(public_url: str | None) -> str:
    """The right-hand side of our ``Message-ID``s: the host of ``PONY_PUBLIC_URL``, else
    ``pony.local``."""
    host = urlsplit(public_url or "").hostname or ""
    return host if _DOMAIN.match(host) else DEFAULT_DOMAIN


def message_id(job_id: str, event: str, domain: str) -> str:
    """``<{job_id}.{event}@{domain}>``: the same for every attempt at one job's event."""
    domain = domain if _DOMAIN.match(domain) else DEFAULT_DOMAIN
    return f"<{_ID_PART.sub('', job_id)}.{_ID_PART.sub('', event)}@{domain}>"


def clean(value: object, *, limit: int = MAX_FIELD) -> str:
    """One line of user text: control, format and line-separator characters removed, at most
    ``limit`` characters (an ellipsis marks a cut)."""
    text = "".join(c for c in str(value) if unicodedata.category(c) not in _INVISIBLE)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def compose(
    payload: dict[str, Any], *, to: str, mail_from: str, message_id_domain: str
) -> EmailMessage:
    """The message for one job event. Raises ``ValueError`` when ``to`` or ``mail_from`` is not
    one plain address (they are our settings and validated input, never rewritten here)."""
    job, event = payload["data"], str(payload["type"])
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = subject(job)
    message["From"] = _address(mail_from)
    message["To"] = _address(to)
    message["Date"] = email.utils.format_datetime(_moment(payload.get("timestamp")))
    message["Message-ID"] = message_id(str(job["id"]), event, message_id_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text_body(job))
    message.add_alternative(html_body(job), subtype="html")
    return message


def subject(job: dict[str, Any]) -> str:
    """``Job job_... succeeded: clip.mov``."""
    name = clean(job["source"]["filename"], limit=MAX_SUBJECT_NAME)
    return f"Job {clean(job['id'], limit=64)} {clean(job['status'], limit=16)}: {name}"


def text_body(job: dict[str, Any]) -> str:
    lines = [
        f"Job {clean(job['id'])} {clean(job['status'])}.",
        "",
        f"File: {clean(job['source']['filename'])}",
        f"Pipeline: {clean(job['pipeline'])}",
    ]
    if job.get("error"):
        error = job["error"]
        lines += ["", f"Error {clean(error.get('code'))}: {clean(error.get('message'))}"]
        lines += [f"Step: {clean(error['step'])}"] if error.get("step") else []
    if job["outputs"]:
        lines += ["", "Outputs:"]
        lines += [
            f"- {clean(o['name'])} ({clean(o['content_type'])}, {size(o['size'])}): "
            f"{clean(o['url'])}"
            for o in job["outputs"]
        ]
    if job.get("metadata"):
        lines += ["", f"Metadata: {_metadata(job['metadata'])}"]
    return "\n".join(lines) + "\n"


def html_body(job: dict[str, Any]) -> str:
    def e(value: object) -> str:
        return html.escape(clean(value), quote=True)

    parts = [
        f"<p>Job <code>{e(job['id'])}</code> <strong>{e(job['status'])}</strong>.</p>",
        f"<p>File: {e(job['source']['filename'])}<br>Pipeline: {e(job['pipeline'])}</p>",
    ]
    if job.get("error"):
        error = job["error"]
        step = f" (step {e(error['step'])})" if error.get("step") else ""
        parts.append(
            f"<p>Error <code>{e(error.get('code'))}</code>{step}: {e(error.get('message'))}</p>"
        )
    if job["outputs"]:
        items = "".join(
            f'<li><a href="{e(o["url"])}">{e(o["name"])}</a> '
            f"({e(o['content_type'])}, {e(size(o['size']))})</li>"
            for o in job["outputs"]
        )
        parts.append(f"<p>Outputs:</p><ul>{items}</ul>")
    if job.get("metadata"):
        parts.append(f"<p>Metadata: <code>{e(_metadata(job['metadata']))}</code></p>")
    body = "\n".join(parts)
    head = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>'
    return f"{head}\n{body}\n</body></html>\n"


def size(value: int | None) -> str:
    """Bytes for people: ``532 bytes``, ``12.3 KiB``, ``4.0 MiB``."""
    if value is None:
        return "unknown size"
    if value < 1024:
        return f"{value} bytes"
    amount = value / 1024
    for unit in ("KiB", "MiB"):
        if amount < 1024:
            return f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


def _metadata(metadata: object) -> str:
    return clean(json.dumps(metadata, ensure_ascii=False, sort_keys=True), limit=MAX_METADATA)


def _address(value: str) -> str:
    _, address = email.utils.parseaddr(value)
    if "@" not in address or clean(value) != value or any(c in value for c in ",;"):
        raise ValueError(f"not one plain email address: {value!r}")
    return value


def _moment(timestamp: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(timestamp))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
