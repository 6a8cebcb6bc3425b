from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.media import ffmpeg

SRC, DST = Path("/work/in put"), Path("/work/out.mp4")


def _builders() -> list[list[str]]:
    return [
        ffmpeg.poster_argv(SRC, Path("/work/poster.jpg"), at=1.5, width=320, height=240),
        ffmpeg.transcode_argv(
            SRC,
            DST,
            width=640,
            height=360,
            has_audio=True,
            crf=23,
            preset="veryfast",
            audio_bitrate="128k",
        ),
        ffmpeg.audio_argv(SRC, Path("/work/audio.m4a"), bitrate="96k"),
        ffmpeg.probe_argv(SRC),
    ]


def _value(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


@pytest.mark.parametrize("argv", _builders())
def test_every_command_reads_only_local_files(argv: list[str]) -> None:
    assert _value(argv, "-protocol_whitelist") == "file"
    assert argv.index("-protocol_whitelist") < argv.index("file:/work/in put")


@pytest.mark.parametrize("argv", _builders()[:3])
def test_every_ffmpeg_command_is_quiet_non_interactive_and_overwrites(argv: list[str]) -> None:
    assert argv[0] == "ffmpeg"
    assert {"-nostdin", "-hide_banner", "-y"} <= set(argv)


def test_transcode_argv_makes_a_faststart_h264_aac_mp4_at_the_given_size() -> None:
    argv = _builders()[1]
    assert _value(argv, "-c:v") == "libx264"
    assert _value(argv, "-pix_fmt") == "yuv420p"
    assert _value(argv, "-profile:v") == "high"
    assert _value(argv, "-crf") == "23"
    assert _value(argv, "-preset") == "veryfast"
    assert _value(argv, "-c:a") == "aac"
    assert _value(argv, "-b:a") == "128k"
    assert _value(argv, "-movflags") == "+faststart"
    assert _value(argv, "-f") == "mp4"
    assert "scale=640:360" in _value(argv, "-filter_complex")
    assert "file:/work/out.mp4" in argv


def test_transcode_argv_reports_progress_on_stdout() -> None:
    argv = _builders()[1]
    assert _value(argv, "-progress") == "pipe:1"
    assert "-nostats" in argv


def test_transcode_argv_strips_metadata() -> None:
    argv = _builders()[1]
    assert _value(argv, "-map_metadata") == "-1"


def test_transcode_argv_without_audio_maps_and_encodes_no_audio() -> None:
    argv = ffmpeg.transcode_argv(
        SRC, DST, width=2, height=2, has_audio=False, crf=0, preset="medium", audio_bitrate="64k"
    )
    assert "-c:a" not in argv
    assert "0:a:0" not in argv


def test_poster_argv_seeks_and_writes_one_scaled_jpeg_frame() -> None:
    argv = _builders()[0]
    assert _value(argv, "-ss") == "1.500"
    assert argv.index("-ss") < argv.index("-i")
    assert _value(argv, "-frames:v") == "1"
    assert _value(argv, "-c:v") == "mjpeg"
    assert "scale=320:240" in _value(argv, "-filter_complex")
    assert "file:/work/poster.jpg" in argv


def test_audio_argv_makes_a_faststart_aac_m4a_without_video() -> None:
    argv = _builders()[2]
    assert "-vn" in argv
    assert _value(argv, "-c:a") == "aac"
    assert _value(argv, "-b:a") == "96k"
    assert _value(argv, "-movflags") == "+faststart"
    assert "file:/work/audio.m4a" in argv


def test_a_name_that_looks_like_an_option_stays_a_local_file() -> None:
    argv = ffmpeg.audio_argv(Path("-i"), Path("-y"), bitrate="64k")
    assert "file:-i" in argv and "file:-y" in argv
