"""The email a job's end sends (``pipeline.notify.email``), and reading ``PONY_SMTP_URL`` and
SMTP failures at the edge (``workers.mailer``)."""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket
from email.message import EmailMessage
from typing import Any

import pytest

from pipeline.notify.email import clean, compose, message_id_domain, size
from workers.mailer import SmtpConfig, outcome, parse_smtp_url

EVIL = "evil\r\nBcc: x@y.z.mov"


def job(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "job_01J0000000000000000000000",
        "status": "succeeded",
        "progress": 1.0,
        "pipeline": "auto",
        "source": {"filename": "clip.mov", "size": 2048, "content_type": "video/quicktime"},
        "media": {"kind": "video"},
        "steps": [],
        "outputs": [
            {
                "name": "mp4_720p",
                "step": "mp4_720p",
                "content_type": "video/mp4",
                "size": 3 * 1024 * 1024,
                "url": "https://media.example.com/v1/jobs/job_01J0000000000000000000000/outputs/mp4_720p",
            },
            {
                "name": "poster",
                "step": "poster",
                "content_type": "image/jpeg",
                "size": 532,
                "url": "https://media.example.com/v1/jobs/job_01J0000000000000000000000/outputs/poster",
            },
        ],
        "error": None,
        "metadata": {},
    }
    return base | changes


def payload(document: dict[str, Any], event: str = "job.succeeded") -> dict[str, Any]:
    return {"type": event, "timestamp": "2024-05-01T10:00:00.123456Z", "data": document}


def composed(document: dict[str, Any], event: str = "job.succeeded") -> EmailMessage:
    return compose(
        payload(document, event),
        to="someone@example.com",
        mail_from="Pony Express <pony@example.com>",
        message_id_domain="media.example.com",
    )


def reparsed(message: EmailMessage) -> EmailMessage:
    """The message as a receiving server would read it back from the wire."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    text, markup = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and markup is not None
    return text.get_content(), markup.get_content()


def test_the_headers_name_the_job_its_status_and_file():
    message = reparsed(composed(job()))
    assert message["Subject"] == "Job job_01J0000000000000000000000 succeeded: clip.mov"
    assert message["To"] == "someone@example.com"
    assert message["From"] == "Pony Express <pony@example.com>"
    assert message["Date"] == "Wed, 01 May 2024 10:00:00 +0000"
    assert (
        message["Message-ID"] == "<job_01J0000000000000000000000.job.succeeded@media.example.com>"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"


def test_the_message_is_written_for_smtp():
    raw = composed(job()).as_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_both_parts_list_every_output_with_its_size_and_link():
    text, markup = parts(reparsed(composed(job())))
    assert "Job job_01J0000000000000000000000 succeeded." in text
    assert "File: clip.mov" in text
    base = "https://media.example.com/v1/jobs/job_01J0000000000000000000000/outputs"
    assert f"- mp4_720p (video/mp4, 3.0 MiB): {base}/mp4_720p" in text
    assert f"- poster (image/jpeg, 532 bytes): {base}/poster" in text
    assert f'<a href="{base}/mp4_720p">mp4_720p</a> (video/mp4, 3.0 MiB)' in markup
    assert f'<a href="{base}/poster">poster</a>' in markup


def test_a_failed_job_says_its_error_code_message_and_step():
    error = {"code": "invalid_media", "message": "the file is not a video", "step": "probe"}
    document = job(status="failed", outputs=[], error=error)
    message = reparsed(composed(document, "job.failed"))
    assert message["Subject"] == "Job job_01J0000000000000000000000 failed: clip.mov"
    assert message["Message-ID"] == "<job_01J0000000000000000000000.job.failed@media.example.com>"
    text, markup = parts(message)
    assert "Error invalid_media: the file is not a video" in text and "Step: probe" in text
    assert "Outputs" not in text
    assert "<code>invalid_media</code> (step probe): the file is not a video" in markup


def test_a_canceled_job_says_so():
    message = reparsed(composed(job(status="canceled", outputs=[]), "job.canceled"))
    assert message["Subject"].startswith("Job job_01J0000000000000000000000 canceled:")


def test_a_filename_with_a_line_break_cannot_add_a_header():
    message = composed(job(source={"filename": EVIL, "size": 1, "content_type": "video/mp4"}))
    raw = message.as_bytes()
    assert b"\r\nBcc:" not in raw and b"\nBcc:" not in raw
    back = reparsed(message)
    assert back["Bcc"] is None
    assert back["Subject"] == "Job job_01J0000000000000000000000 succeeded: evilBcc: x@y.z.mov"
    assert [k for k, _ in back.items()] == [
        "Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted", "MIME-Version",
        "Content-Type",
    ]  # fmt: skip
    text, _ = parts(back)
    assert "File: evilBcc: x@y.z.mov" in text.splitlines()


def test_a_long_or_strange_filename_is_capped_and_stripped_in_the_subject():
    name = "\u202egnp.exe" + "a" * 300 + "\x00\x1b[31m.mov"
    subject = reparsed(composed(job(source={"filename": name, "size": 1})))["Subject"]
    shown = subject.split(": ", 1)[1]
    assert len(shown) == 80 and shown.endswith("\u2026")
    assert shown.startswith("gnp.exeaaa")
    assert not any(c in subject for c in "\u202e\x00\x1b\r\n")


def test_a_non_ascii_filename_survives_the_subject():
    document = job(source={"filename": "Überraschung 🎉.mov", "size": 1})
    message = composed(document)
    assert b"\xc3" not in message.as_bytes().split(b"\r\n\r\n", 1)[0]  # headers are 7-bit
    assert reparsed(message)["Subject"].endswith(": Überraschung 🎉.mov")


def test_user_strings_are_html_escaped_in_the_html_part():
    document = job(
        source={"filename": '<img src=x onerror="alert(1)">.png', "size": 1},
        outputs=[
            {
                "name": "<b>thumb</b>",
                "content_type": "image/png",
                "size": 10,
                "url": 'https://m.example.com/o?a=1&b="2"',
            }
        ],
        metadata={"title": "<script>alert('x')</script>"},
    )
    _, markup = parts(reparsed(composed(document)))
    assert "<img" not in markup and "<script" not in markup and "<b>" not in markup
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.png" in markup
    assert (
        '<a href="https://m.example.com/o?a=1&amp;b=&quot;2&quot;">&lt;b&gt;thumb&lt;/b&gt;</a>'
        in markup
    )
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in markup


def test_the_error_message_is_escaped_too():
    error = {"code": "processing_failed", "message": "<i>bad</i> & worse", "step": "x"}
    _, markup = parts(
        reparsed(composed(job(status="failed", outputs=[], error=error), "job.failed"))
    )
    assert "&lt;i&gt;bad&lt;/i&gt; &amp; worse" in markup


def test_the_message_id_is_the_same_for_every_attempt_and_differs_per_event():
    first, again = composed(job()), composed(job())
    assert first["Message-ID"] == again["Message-ID"]
    assert first.as_bytes() != b"" and first["Date"] == again["Date"]
    other = composed(job(status="failed"), "job.failed")
    another_job = composed(job(id="job_01J0000000000000000000001"))
    assert len({first["Message-ID"], other["Message-ID"], another_job["Message-ID"]}) == 3


@pytest.mark.parametrize(
    "bad", ["a@example.com\r\nBcc: x@y.z", "a@example.com, b@example.com", "nobody"]
)
def test_a_recipient_that_is_not_one_plain_address_is_refused(bad):
    with pytest.raises(ValueError, match="not one plain email address"):
        compose(payload(job()), to=bad, mail_from="pony@example.com", message_id_domain="x.y")


@pytest.mark.parametrize(
    ("public_url", "domain"),
    [("https://media.example.com/base", "media.example.com"),
     ("http://127.0.0.1:8000", "127.0.0.1"), (None, "pony.local"),
     ("", "pony.local"), ("http://bad_host!/", "pony.local")],
)  # fmt: skip
def test_the_message_id_domain_is_the_public_host(public_url, domain):
    assert message_id_domain(public_url) == domain


def test_a_strange_message_id_domain_falls_back():
    message = compose(payload(job()), to="a@b.c", mail_from="p@q.r", message_id_domain="a b>")
    assert message["Message-ID"].endswith("@pony.local>")


def test_sizes_read_like_people_write_them():
    assert [size(v) for v in (None, 0, 1023, 1024, 1536, 5 * 1024**2, 3 * 1024**3)] == [
        "unknown size", "0 bytes", "1023 bytes", "1.0 KiB", "1.5 KiB", "5.0 MiB", "3.0 GiB",
    ]  # fmt: skip


def test_clean_keeps_ordinary_text_and_drops_controls():
    assert clean("clip (final) v2.mov") == "clip (final) v2.mov"
    assert clean("a\tb\x7fc\u2028d\u200be") == "abcde"
    assert clean("x" * 10, limit=5) == "xxxx\u2026"


# PONY_SMTP_URL (workers.mailer)


@pytest.mark.parametrize(
    ("url", "config"),
    [
        ("smtp://mail.example.com", SmtpConfig(host="mail.example.com", port=25)),
        ("smtp://127.0.0.1:2525", SmtpConfig(host="127.0.0.1", port=2525)),
        ("smtps://mail.example.com", SmtpConfig(host="mail.example.com", port=465,
                                                implicit_tls=True)),
        (
            "smtp://me%40example.com:p%3Ass%2Fw%40rd@mail.example.com:587?starttls=true",
            SmtpConfig(
                host="mail.example.com", port=587, starttls=True,
                username="me@example.com", password="p:ss/w@rd",
            ),
        ),
        ("smtp://h:25?starttls=false", SmtpConfig(host="h", port=25)),
        ("smtp://user:@h", SmtpConfig(host="h", port=25, username="user", password="")),
    ],
)  # fmt: skip
def test_the_smtp_url_is_read(url, config):
    assert parse_smtp_url(url) == config


@pytest.mark.parametrize(
    ("url", "words"),
    [("http://h", "smtp:// or smtps://"), ("smtp://", "no host"), ("smtp://h:notaport", "port"),
     ("smtp://h?starttls=maybe", "starttls"), ("smtps://h?starttls=true", "TLS already"),
     ("smtp://h?tls=1", "unknown option")],
)  # fmt: skip
def test_a_wrong_smtp_url_is_refused_with_a_clear_error(url, words):
    with pytest.raises(ValueError, match=words):
        parse_smtp_url(url)


def test_the_password_stays_out_of_reprs_and_errors():
    config = parse_smtp_url("smtp://me:hunter2@h:587?starttls=true")
    assert "hunter2" not in repr(config) and "hunter2" not in str(config)
    assert str(config) == "smtp://me@h:587?starttls=true"
    with pytest.raises(ValueError) as caught:
        parse_smtp_url("smtp://me:hunter2@h?starttls=perhaps")
    assert "hunter2" not in str(caught.value)


# SMTP failures (workers.mailer.outcome)


@pytest.mark.parametrize(
    ("exc", "status", "give_up"),
    [
        (smtplib.SMTPRecipientsRefused({"a@b.c": (451, b"try later")}), 451, False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no such user")}), 550, True),
        (smtplib.SMTPDataError(452, b"mailbox full"), 452, False),
        (smtplib.SMTPDataError(554, b"rejected"), 554, True),
        (smtplib.SMTPSenderRefused(553, b"bad sender", "p@q.r"), 553, True),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), 535, True),
        (smtplib.SMTPAuthenticationError(454, b"temporary auth failure"), 454, False),
        (smtplib.SMTPConnectError(421, b"too busy"), 421, False),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), None, True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), None, False),
        (ConnectionRefusedError(111, "Connection refused"), None, False),
        (TimeoutError("timed out"), None, False),
        (socket.gaierror(-2, "Name or service not known"), None, False),
    ],
)  # fmt: skip
def test_smtp_failures_are_retried_unless_permanent(exc, status, give_up):
    result = outcome(exc)
    assert not result.delivered
    assert (result.status, result.give_up) == (status, give_up)
    assert result.error
