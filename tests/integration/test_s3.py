"""The S3 object store against a real S3 server (SeaweedFS)."""

from __future__ import annotations

import httpx
import pytest

from pipeline.errors import NotFound
from pony.s3 import S3Store, parse_s3_url

pytestmark = pytest.mark.integration


@pytest.fixture
def objects(s3_url):
    store = S3Store(parse_s3_url(s3_url))
    store.ensure_ready()
    store.ensure_ready()  # a second call finds the bucket and changes nothing
    return store


def test_objects_round_trip_and_a_prefix_deletes_only_its_own(objects, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"pony" * 300_000)
    objects.put_file("t1/j1/original", source, content_type="video/mp4")
    objects.put_file("t1/j1/thumb/a.jpg", source, content_type="image/jpeg")
    objects.put_file("t1/j10/original", source, content_type="video/mp4")
    objects.get_file("t1/j1/original", tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == source.read_bytes()
    assert b"".join(objects.iter_bytes("t1/j1/thumb/a.jpg")) == source.read_bytes()
    objects.delete_prefix("t1/j1/")
    with pytest.raises(NotFound):
        objects.get_file("t1/j1/original", tmp_path / "gone.bin")
    with pytest.raises(NotFound):
        objects.iter_bytes("t1/j1/thumb/a.jpg")
    objects.get_file("t1/j10/original", tmp_path / "kept.bin")


def test_a_presigned_url_serves_the_object_without_credentials(objects, tmp_path):
    source = tmp_path / "p.txt"
    source.write_bytes(b"hello pony")
    objects.put_file("t2/j/p/p.txt", source, content_type="text/plain")
    url = objects.presigned_url("t2/j/p/p.txt", seconds=60)
    assert url is not None and "X-Amz-Signature" in url
    assert httpx.get(url, timeout=10).content == b"hello pony"
    with pytest.raises(NotFound):
        objects.presigned_url("t2/j/p/missing.txt", seconds=60)


def test_storage_urls_parse_with_their_options():
    where = parse_s3_url("s3://AK:s%2Fcret@minio:9000/pony?secure=false&region=eu-1")
    assert (where.endpoint, where.bucket, where.secure, where.region) == (
        "minio:9000", "pony", False, "eu-1",
    )  # fmt: skip
    assert where.secret_key == "s/cret"
    with pytest.raises(ValueError):
        parse_s3_url("s3://minio:9000/pony")
