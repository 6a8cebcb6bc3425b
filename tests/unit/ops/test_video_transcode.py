from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import Canceled, UnsupportedMedia
from tests.factories import atom_order, ffprobe_json, first_frame, video_rotation
from tests.unit.ops.helpers import run_op


def _streams(path: Path) -> dict[str, dict[str, object]]:
    return {s["codec_type"]: s for s in ffprobe_json(path)["streams"]}


def test_a_video_becomes_a_faststart_h264_aac_mp4_at_the_asked_height(
    video: Path, tmp_path: Path
) -> None:
    seen: list[float] = []
    output = run_op(
        "video.transcode",
        video,
        tmp_path / "work",
        progress=seen.append,
        height=120,
        preset="ultrafast",
    ).output
    assert output is not None
    assert (output.path.name, output.content_type) == ("video.mp4", "video/mp4")
    streams = _streams(output.path)
    assert streams["video"]["codec_name"] == "h264"
    assert streams["video"]["pix_fmt"] == "yuv420p"
    assert (streams["video"]["width"], streams["video"]["height"]) == (160, 120)
    assert streams["audio"]["codec_name"] == "aac"
    assert (output.width, output.height) == (160, 120)
    assert output.duration == pytest.approx(1.0, abs=0.1)
    order = atom_order(output.path)
    assert order.index("moov") < order.index("mdat")
    assert seen and seen[-1] == 1.0


def test_a_height_over_the_source_keeps_the_source_size(video: Path, tmp_path: Path) -> None:
    output = run_op("video.transcode", video, tmp_path / "work", preset="ultrafast").output
    assert output is not None and (output.width, output.height) == (320, 240)


def test_a_phone_video_comes_out_upright_with_no_rotation_flag(
    rotated_video: Path, tmp_path: Path
) -> None:
    output = run_op("video.transcode", rotated_video, tmp_path / "work", preset="ultrafast").output
    assert output is not None
    assert (output.width, output.height) == (240, 320)
    assert video_rotation(output.path) == 0
    raw = first_frame(output.path, autorotate=False)
    upright = first_frame(rotated_video)
    assert raw.size == upright.size == (240, 320)
    for point in ((120, 20), (120, 300)):
        assert _close(raw.getpixel(point), upright.getpixel(point))


def test_a_video_without_audio_gives_an_mp4_without_audio(
    silent_video: Path, tmp_path: Path
) -> None:
    output = run_op("video.transcode", silent_video, tmp_path / "work", preset="ultrafast").output
    assert output is not None
    assert set(_streams(output.path)) == {"video"}


def test_a_cancel_from_progress_stops_the_transcode(video: Path, tmp_path: Path) -> None:
    def cancel(fraction: float) -> None:
        raise Canceled("the job was canceled")

    with pytest.raises(Canceled):
        run_op("video.transcode", video, tmp_path / "work", progress=cancel, preset="ultrafast")


def test_an_audio_file_cannot_be_transcoded_as_video(audio: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia):
        run_op("video.transcode", audio, tmp_path / "work")


def _close(actual: object, expected: object, tolerance: int = 24) -> bool:
    assert isinstance(actual, tuple) and isinstance(expected, tuple)
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))
