"""The object store interface and the keys Pony Express stores under.

Keys are made by the server, never from user file names:
``{tenant}/{job}/original`` and ``{tenant}/{job}/{step}/{file}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


def job_prefix(tenant_id: str, job_id: str) -> str:
    return f"{tenant_id}/{job_id}/"


def original_key(tenant_id: str, job_id: str) -> str:
    return f"{job_prefix(tenant_id, job_id)}original"


def output_key(tenant_id: str, job_id: str, step: str, filename: str) -> str:
    return f"{job_prefix(tenant_id, job_id)}{step}/{filename}"


class ObjectStore(Protocol):
    """Bytes by key. Errors: ``NotFound`` for a missing key, ``TransientError`` for the rest."""

    def ensure_ready(self) -> None:
        """Create the bucket or folder when missing."""

    def ping(self) -> None:
        """Raise ``TransientError`` unless the store answers."""

    def put_file(self, key: str, path: Path, *, content_type: str) -> None: ...

    def get_file(self, key: str, path: Path) -> None: ...

    def iter_bytes(self, key: str) -> Iterator[bytes]: ...

    def delete_prefix(self, prefix: str) -> None: ...

    def presigned_url(self, key: str, *, seconds: int) -> str | None:
        """A short-lived URL a client may fetch directly, or ``None`` to stream instead."""
