"""``pony dev``: the same path in one process on embedded defaults, with no key needed."""

from __future__ import annotations

import pytest
from PIL import Image

from tests import factories
from tests.factories import ffprobe_json, stream
from tests.integration.conftest import download, submit, wait_for

pytestmark = pytest.mark.integration


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
