"""Taking an upload: copy it aside while hashing and counting, then store it under its key."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

from fastapi import UploadFile

from pipeline.errors import UploadTooLarge
from pipeline.jobs import Source
from pipeline.storage import ObjectStore

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


def clean_filename(name: str | None) -> str:
    """The last path part of a client's file name, without control characters."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE.sub("_", base).strip()[:255] or "upload"


def store_upload(upload: UploadFile, objects: ObjectStore, *, key: str, limit: int) -> Source:
    with tempfile.TemporaryDirectory(prefix="pony-upload-") as tmp:
        path = Path(tmp) / "upload"
        size, digest = _copy(upload, path, limit=limit)
        content_type = upload.content_type or "application/octet-stream"
        objects.put_file(key, path, content_type=content_type)
    return Source(
        filename=clean_filename(upload.filename),
        size=size,
        content_type=content_type,
        sha256=digest,
        key=key,
    )


def _copy(upload: UploadFile, path: Path, *, limit: int) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge(f"the upload is larger than the limit of {limit} bytes")
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()
