from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import UnsupportedMedia
from tests.factories import atom_order, ffprobe_json
from tests.unit.ops.helpers import run_op


def test_an_mp3_becomes_a_faststart_aac_m4a(audio: Path, tmp_path: Path) -> None:
    output = run_op("audio.transcode", audio, tmp_path / "work", bitrate="96k").output
    assert output is not None
    assert (output.path.name, output.content_type) == ("audio.m4a", "audio/mp4")
    assert [s["codec_name"] for s in ffprobe_json(output.path)["streams"]] == ["aac"]
    assert output.duration == pytest.approx(1.0, abs=0.1)
    assert (output.width, output.height) == (None, None)
    order = atom_order(output.path)
    assert order.index("moov") < order.index("mdat")


def test_the_audio_of_a_video_becomes_an_m4a_without_video(video: Path, tmp_path: Path) -> None:
    output = run_op("audio.transcode", video, tmp_path / "work").output
    assert output is not None
    assert [s["codec_type"] for s in ffprobe_json(output.path)["streams"]] == ["audio"]


def test_a_video_without_audio_has_nothing_to_transcode(silent_video: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia, match="no audio"):
        run_op("audio.transcode", silent_video, tmp_path / "work")
