"""Jobs through the real API and a worker in separate processes, on PostgreSQL, RabbitMQ,
SeaweedFS and ffmpeg; outputs downloaded and decoded."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from PIL import Image

from pony.s3 import S3Store, parse_s3_url
from tests import factories
from tests.factories import atom_order, ffprobe_json, stream, video_rotation
from tests.integration.conftest import PONY, download, submit, wait_for

pytestmark = pytest.mark.integration


def test_an_image_job_makes_upright_thumbnails_without_metadata(api, tmp_path):
    photo = factories.make_image(
        tmp_path / "phone.jpg", size=(1600, 1200), mode="RGB", fmt="JPEG", exif_orientation=6
    )
    job = wait_for(api, submit(api, photo)["id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0
    assert job["media"]["kind"] == "image"
    assert (job["media"]["width"], job["media"]["height"]) == (1200, 1600)
    sizes = {}
    for name in ("thumb_320", "thumb_1280"):
        with Image.open(download(api, job, name, tmp_path)) as img:
            assert img.format == "JPEG"
            assert not img.getexif()
            sizes[name] = img.size
    assert sizes == {"thumb_320": (240, 320), "thumb_1280": (960, 1280)}


def test_a_transparent_png_keeps_its_alpha(api, tmp_path):
    logo = factories.make_image(tmp_path / "logo.png", size=(400, 200), mode="RGBA", fmt="PNG")
    job = wait_for(api, submit(api, logo)["id"])
    assert job["status"] == "succeeded", job["error"]
    with Image.open(download(api, job, "thumb_320", tmp_path)) as img:
        assert img.mode in ("RGBA", "LA") and img.size == (320, 160)


def test_a_rotated_phone_video_becomes_upright_renditions_a_poster_and_its_thumbnail(api, tmp_path):
    clip = factories.make_video(
        tmp_path / "phone.mp4", size=(640, 360), duration=2.0, audio=True, rotate=90
    )
    job = wait_for(api, submit(api, clip)["id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["media"]["kind"] == "video"
    assert (job["media"]["width"], job["media"]["height"]) == (360, 640)
    expected = {"mp4_720p": (360, 640), "mp4_360p": (202, 360)}
    for name, size in expected.items():
        path = download(api, job, name, tmp_path)
        info = ffprobe_json(path)
        video, audio = stream(info, "video"), stream(info, "audio")
        assert video["codec_name"] == "h264" and audio["codec_name"] == "aac"
        assert (video["width"], video["height"]) == size
        assert video_rotation(path) == 0
        assert float(info["format"]["duration"]) == pytest.approx(2.0, abs=0.2)
        assert atom_order(path).index("moov") < atom_order(path).index("mdat")
    with Image.open(download(api, job, "poster", tmp_path)) as poster:
        assert poster.format == "JPEG" and poster.size == (360, 640)
    with Image.open(download(api, job, "poster_320", tmp_path)) as thumb:
        assert thumb.size == (180, 320)


def test_a_video_without_audio_transcodes_to_video_only(api, tmp_path):
    clip = factories.make_video(tmp_path / "silent.mp4", size=(320, 240), duration=1.0, audio=False)
    pipeline = {"steps": {"small": {"op": "video.transcode", "use": ":original", "height": 480}}}
    job = wait_for(api, submit(api, clip, pipeline=json.dumps(pipeline))["id"])
    assert job["status"] == "succeeded", job["error"]
    info = ffprobe_json(download(api, job, "small", tmp_path))
    assert stream(info, "audio") is None
    assert (stream(info, "video")["width"], stream(info, "video")["height"]) == (320, 240)


def test_an_audio_job_makes_aac_in_m4a(api, tmp_path):
    sound = factories.make_audio(tmp_path / "voice.wav", duration=1.5)
    job = wait_for(api, submit(api, sound)["id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["media"]["kind"] == "audio"
    info = ffprobe_json(download(api, job, "m4a", tmp_path))
    assert stream(info, "audio")["codec_name"] == "aac" and stream(info, "video") is None
    assert float(info["format"]["duration"]) == pytest.approx(1.5, abs=0.15)


def empty(path):
    path.write_bytes(b"")


def text(path):
    path.write_text("shopping list: hay, oats\n" * 40)


def cut_video(path):
    factories.truncate(factories.make_video(path, size=(320, 240), duration=1.0), 0.5)


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [("empty.jpg", empty, "invalid_media"), ("notes.mp4", text, "invalid_media"),
     ("cut.mp4", cut_video, "invalid_media")],
)  # fmt: skip
def test_bad_input_ends_failed_with_a_code_and_a_message_without_paths(
    api, tmp_path, name, make, code
):
    path = tmp_path / name
    make(path)
    job = wait_for(api, submit(api, path)["id"])
    assert job["status"] == "failed"
    assert job["error"]["code"] == code and job["error"]["step"] == "probe"
    assert "/" not in job["error"]["message"] and "Traceback" not in job["error"]["message"]


def test_tenants_are_isolated_and_keys_required(cluster, api, tmp_path):
    photo = factories.make_image(tmp_path / "a.png", size=(64, 64), mode="RGB", fmt="PNG")
    job = submit(api, photo)
    other = json.loads(cluster.pony("tenants", "create", "other-co"))
    with cluster.client(other["api_key"]) as intruder:
        assert intruder.get(f"/v1/jobs/{job['id']}").status_code == 404
        assert intruder.get(f"/v1/jobs/{job['id']}/outputs/thumb_320").status_code == 404
    with cluster.client(None) as anonymous:
        assert anonymous.get("/v1/jobs").status_code == 401


def test_delete_removes_every_stored_object(api, cluster, tmp_path):
    photo = factories.make_image(tmp_path / "b.png", size=(64, 64), mode="RGB", fmt="PNG")
    job = wait_for(api, submit(api, photo)["id"])
    output_url = job["outputs"][0]["url"]
    assert api.get(output_url).status_code == 200
    assert api.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert api.get(f"/v1/jobs/{job['id']}").status_code == 404

    store = S3Store(parse_s3_url(cluster.env["PONY_STORAGE_URL"]))
    left = list(store.client.list_objects(store.bucket, prefix="", recursive=True))
    assert not [o.object_name for o in left if job["id"] in o.object_name]


def step_of(api, job_id, name):
    return next(s for s in api.get(f"/v1/jobs/{job_id}").json()["steps"] if s["name"] == name)


def until(predicate, *, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    pytest.fail(f"still waiting after {timeout} s")


def test_progress_moves_during_a_transcode_and_cancel_stops_it(api, tmp_path):
    clip = factories.make_video(tmp_path / "long.mp4", size=(1280, 720), duration=20.0, audio=False)
    slow = {"op": "video.transcode", "use": ":original", "height": 720, "preset": "medium"}
    job = submit(api, clip, pipeline=json.dumps({"steps": {"slow": slow}}))
    running = until(
        lambda: (s := step_of(api, job["id"], "slow"))["progress"] > 0 and s, timeout=60
    )
    assert running["status"] == "running" and running["progress"] < 1.0
    assert 0 < api.get(f"/v1/jobs/{job['id']}").json()["progress"] < 1.0
    assert api.post(f"/v1/jobs/{job['id']}/cancel").json()["status"] == "canceled"
    stopped = until(lambda: (s := step_of(api, job["id"], "slow"))["status"] == "canceled" and s,
                    timeout=30)  # fmt: skip
    assert stopped["progress"] < 1.0
    assert api.get(f"/v1/jobs/{job['id']}").json()["outputs"] == []


def test_pony_submit_uploads_follows_and_prints_the_job(cluster, tenant, tmp_path):
    photo = factories.make_image(tmp_path / "cli.png", size=(100, 50), mode="RGB", fmt="PNG")
    env = {**cluster.env, "PONY_URL": cluster.url, "PONY_API_KEY": tenant["api_key"]}
    done = subprocess.run(
        [PONY, "submit", str(photo), "--wait", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    job = json.loads(done.stdout)
    assert job["status"] == "succeeded"
    assert {o["name"] for o in job["outputs"]} == {"thumb_320", "thumb_1280"}
