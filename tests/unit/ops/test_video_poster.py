from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import UnsupportedMedia
from pipeline.ops.video_poster import poster_time
from tests.factories import first_frame, make_video
from tests.unit.ops.helpers import run_op


def test_poster_time_defaults_to_a_tenth_of_the_video_capped_at_five_seconds() -> None:
    assert poster_time(None, 10.0) == 1.0
    assert poster_time(None, 600.0) == 5.0
    assert poster_time(None, None) == 0.0


def test_poster_time_keeps_a_requested_moment_clear_of_the_end() -> None:
    assert poster_time(2.0, 10.0) == 2.0
    assert poster_time(30.0, 10.0) == 9.5
    assert poster_time(3.0, 0.2) == 0.0


def test_a_video_gives_a_jpeg_poster_at_its_size(video: Path, tmp_path: Path) -> None:
    output = run_op("video.poster", video, tmp_path / "work").output
    assert output is not None
    assert (output.path.name, output.content_type) == ("poster.jpg", "image/jpeg")
    with Image.open(output.path) as poster:
        assert (poster.format, poster.size) == ("JPEG", (320, 240))
    assert (output.width, output.height, output.duration) == (320, 240, None)


def test_a_phone_video_gives_an_upright_poster(rotated_video: Path, tmp_path: Path) -> None:
    output = run_op("video.poster", rotated_video, tmp_path / "work", at=0.0).output
    assert output is not None
    upright = first_frame(rotated_video)
    with Image.open(output.path) as poster:
        assert poster.size == upright.size == (240, 320)
        rgb = poster.convert("RGB")
        for point in ((120, 20), (120, 300)):
            assert _close(rgb.getpixel(point), upright.getpixel(point))


def test_a_moment_past_the_end_still_gives_a_frame(video: Path, tmp_path: Path) -> None:
    output = run_op("video.poster", video, tmp_path / "work", at=3600.0).output
    assert output is not None and output.path.stat().st_size > 0


def test_a_moment_after_the_last_picture_falls_back_to_the_first(tmp_path: Path) -> None:
    short_picture = make_video(tmp_path / "in.mp4", duration=0.2, audio_duration=1.0)
    output = run_op("video.poster", short_picture, tmp_path / "work", at=0.6).output
    assert output is not None
    with Image.open(output.path) as poster:
        assert poster.size == (320, 240)


def test_an_audio_file_has_no_poster(audio: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia):
        run_op("video.poster", audio, tmp_path / "work")


def _close(actual: object, expected: object, tolerance: int = 24) -> bool:
    assert isinstance(actual, tuple) and isinstance(expected, tuple)
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))
