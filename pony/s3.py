"""Objects in any S3-compatible server (MinIO, SeaweedFS, AWS) through the minio client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from pipeline.errors import NotFound, TransientError

CHUNK = 1024 * 1024
_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchBucket"}


@dataclass(frozen=True)
class S3Location:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    secure: bool
    region: str | None


def parse_s3_url(url: str) -> S3Location:
    """``s3://ACCESS:SECRET@host:port/bucket?secure=false&region=...``"""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    bucket = parts.path.strip("/")
    if not (parts.hostname and bucket and parts.username and parts.password):
        raise ValueError("PONY_STORAGE_URL must be s3://ACCESS:SECRET@host:port/bucket")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return S3Location(
        endpoint=host,
        access_key=unquote(parts.username),
        secret_key=unquote(parts.password),
        bucket=bucket,
        secure=query.get("secure", ["true"])[0].lower() not in ("false", "0", "no"),
        region=query.get("region", [None])[0],
    )


class S3Store:
    def __init__(self, location: S3Location) -> None:
        self.bucket = location.bucket
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=60),
            retries=urllib3.Retry(
                total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
            maxsize=16,
        )
        self.client = Minio(
            location.endpoint,
            access_key=location.access_key,
            secret_key=location.secret_key,
            secure=location.secure,
            region=location.region,
            http_client=http,
        )

    def ensure_ready(self) -> None:
        with _translated():
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

    def ping(self) -> None:
        with _translated():
            self.client.bucket_exists(self.bucket)

    def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        with _translated():
            self.client.fput_object(self.bucket, key, str(path), content_type=content_type)

    def get_file(self, key: str, path: Path) -> None:
        with _translated():
            self.client.fget_object(self.bucket, key, str(path))

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        with _translated():
            response = self.client.get_object(self.bucket, key)
        return _stream(response)

    def delete_prefix(self, prefix: str) -> None:
        with _translated():
            names = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            doomed = [DeleteObject(o.object_name) for o in names if o.object_name]
            for error in self.client.remove_objects(self.bucket, doomed):
                raise TransientError(f"could not delete an object: {error.code}")

    def presigned_url(self, key: str, *, seconds: int) -> str | None:
        with _translated():
            self.client.stat_object(self.bucket, key)
            url: str = self.client.presigned_get_object(
                self.bucket, key, expires=timedelta(seconds=seconds)
            )
        return url


def _stream(response: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    try:
        yield from response.stream(CHUNK)
    finally:
        response.close()
        response.release_conn()


@contextmanager
def _translated() -> Iterator[None]:
    """Translate the client's errors into ours, at this edge."""
    try:
        yield
    except S3Error as exc:
        if exc.code in _MISSING:
            raise NotFound("no such object") from exc
        raise TransientError("object storage did not answer as expected") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise TransientError("object storage did not answer as expected") from exc
