"""``pony dev``: the same path in one process on embedded defaults, with no key needed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests import factories
from tests.factories import ffprobe_json, stream
from tests.integration.conftest import download, start, stop, submit, wait_for, wait_ready
from tests.services import free_ports

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dev(tmp_path_factory) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("dev")
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PONY_")}
    env.update(PONY_PUBLIC_URL=url)
    process = start(["dev", "--port", str(port)], env, home / "dev.log", cwd=home)
    try:
        wait_ready(url, [process], home)
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client
    finally:
        stop(process)


def test_pony_dev_runs_an_image_job_without_a_key(dev, tmp_path):
    photo = factories.make_image(tmp_path / "p.jpg", size=(640, 480), mode="RGB", fmt="JPEG")
    job = wait_for(dev, submit(dev, photo)["id"])
    assert job["status"] == "succeeded", job["error"]
    with Image.open(download(dev, job, "thumb_320", tmp_path)) as img:
        assert img.size == (320, 240)


def test_pony_dev_runs_a_video_job(dev, tmp_path):
    clip = factories.make_video(tmp_path / "v.mp4", size=(320, 240), duration=1.0, audio=True)
    job = wait_for(dev, submit(dev, clip)["id"])
    assert job["status"] == "succeeded", job["error"]
    info = ffprobe_json(download(dev, job, "mp4_360p", tmp_path))
    assert stream(info, "video")["height"] == 240
