"""One rooted hierarchy for every error Pony Express raises on purpose.

    PonyError
    ├── InputError                 the user's input is wrong; never retried
    │   ├── InvalidMedia           empty, truncated, corrupt, not media       (invalid_media)
    │   ├── UnsupportedMedia       real media of a kind or format we do not take (unsupported_media)
    │   ├── MediaTooLarge          over a size, pixel or duration limit       (media_too_large)
    │   ├── InvalidPipeline        a pipeline document that cannot run        (invalid_pipeline)
    │   ├── InvalidRequest         a request field that breaks the contract   (invalid_request)
    │   └── InvalidWebhookUrl      a webhook URL we refuse to call (SSRF)     (invalid_webhook_url)
    ├── TransientError             storage, network, broker: worth retrying
    │   └── BrokerUnavailable      the broker did not take a message         (broker_unavailable)
    ├── ProcessingError            a tool failed on input that probed fine    (processing_failed)
    │   └── DeadlineExceeded       a tool ran past its wall-clock deadline    (timeout)
    ├── Canceled                   the job was canceled while a step ran      (canceled)
    ├── NotFound                   no such job, output or tenant              (not_found)
    ├── Conflict                   the request does not fit the job's state  (conflict)
    ├── Unauthorized               missing or unknown API key                 (unauthorized)
    └── UploadTooLarge             the upload is over the size limit          (upload_too_large)

Each error carries a stable machine-readable ``code`` and a ``message`` safe to show a user:
no stack trace, no path, no secret. HTTP statuses are mapped in one table, in ``api/errors.py``.
"""

from __future__ import annotations


class PonyError(Exception):
    """Root of every error raised on purpose."""

    code = "internal_error"

    def __init__(self, message: str, *, step: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.step = step


class InputError(PonyError):
    """The input is wrong in a way a retry cannot fix."""

    code = "invalid_input"


class InvalidMedia(InputError):
    """The file is empty, truncated, corrupt or not media at all."""

    code = "invalid_media"


class UnsupportedMedia(InputError):
    """The file is media, but of a kind or format we do not process."""

    code = "unsupported_media"


class MediaTooLarge(InputError):
    """The media is over a size, pixel or duration limit."""

    code = "media_too_large"


class InvalidPipeline(InputError):
    """A pipeline document that cannot run: unknown op or parameter, cycle, missing use."""

    code = "invalid_pipeline"


class InvalidRequest(InputError):
    """A request field that is not what the contract says."""

    code = "invalid_request"


class InvalidWebhookUrl(InputError):
    """A webhook URL we refuse to call: not http(s), credentials, or a non-public address."""

    code = "invalid_webhook_url"


class TransientError(PonyError):
    """A fault of storage, network or broker that a later attempt may not meet."""

    code = "transient_error"


class BrokerUnavailable(TransientError):
    """The broker did not confirm a message."""

    code = "broker_unavailable"


class ProcessingError(PonyError):
    """A media tool failed on input that probed fine."""

    code = "processing_failed"


class DeadlineExceeded(ProcessingError):
    """A media tool ran past its wall-clock deadline and was killed."""

    code = "timeout"


class Canceled(PonyError):
    """The job was canceled while one of its steps ran."""

    code = "canceled"


class NotFound(PonyError):
    """No such job, output or tenant (or not the caller's)."""

    code = "not_found"


class Conflict(PonyError):
    """The request does not fit the resource's current state."""

    code = "conflict"


class Unauthorized(PonyError):
    """The API key is missing or unknown."""

    code = "unauthorized"


class UploadTooLarge(PonyError):
    """The upload is over the configured size limit."""

    code = "upload_too_large"
