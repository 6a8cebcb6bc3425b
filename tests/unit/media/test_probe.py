from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.errors import InvalidMedia, MediaTooLarge, PonyError, UnsupportedMedia
from pipeline.media.info import MediaKind
from pipeline.media.probe import probe, stream_rotation
from pipeline.ops.base import Limits
from tests.factories import make_image

LIMITS = Limits()


def _refused(path: Path, error: type[PonyError], *, limits: Limits = LIMITS) -> PonyError:
    with pytest.raises(error) as caught:
        probe(path, limits=limits)
    assert str(path.parent) not in caught.value.message
    assert path.name not in caught.value.message
    return caught.value


def test_an_empty_file_is_invalid(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.touch()
    assert _refused(empty, InvalidMedia).message == "the file is empty"


def test_a_jpeg_is_an_opaque_still_image(tmp_path: Path) -> None:
    info = probe(make_image(tmp_path / "a.jpg", size=(64, 48)), limits=LIMITS)
    assert (info.kind, info.format, info.width, info.height) == (MediaKind.IMAGE, "jpeg", 64, 48)
    assert (info.has_alpha, info.frames, info.duration) == (False, 1, None)


def test_an_exif_orientation_6_jpeg_reports_its_displayed_size(tmp_path: Path) -> None:
    info = probe(make_image(tmp_path / "a.jpg", size=(64, 48), exif_orientation=6), limits=LIMITS)
    assert (info.width, info.height) == (48, 64)


@pytest.mark.parametrize(("mode", "fmt"), [("RGBA", "PNG"), ("P", "PNG"), ("LA", "PNG")])
def test_transparent_images_report_alpha(tmp_path: Path, mode: str, fmt: str) -> None:
    info = probe(make_image(tmp_path / "a", mode=mode, fmt=fmt), limits=LIMITS)
    assert info.has_alpha and info.format == "png"


def test_an_animated_gif_reports_its_frames(tmp_path: Path) -> None:
    info = probe(make_image(tmp_path / "a.gif", mode="P", fmt="GIF", frames=3), limits=LIMITS)
    assert (info.format, info.frames) == ("gif", 3)


@pytest.mark.parametrize(("mode", "fmt"), [("I;16", "TIFF"), ("L", "BMP"), ("RGB", "WEBP")])
def test_the_other_taken_image_formats_probe_by_name(tmp_path: Path, mode: str, fmt: str) -> None:
    assert probe(make_image(tmp_path / "a", mode=mode, fmt=fmt), limits=LIMITS).format == (
        fmt.lower()
    )


def test_an_image_format_we_do_not_take_is_unsupported(tmp_path: Path) -> None:
    _refused(make_image(tmp_path / "a.ppm", fmt="PPM"), UnsupportedMedia)


def test_a_truncated_jpeg_is_invalid(tmp_path: Path) -> None:
    path = make_image(tmp_path / "a.jpg", size=(256, 256))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "truncated" in _refused(path, InvalidMedia).message


def test_an_image_over_the_pixel_limit_is_too_large_and_says_by_how_much(tmp_path: Path) -> None:
    error = _refused(
        make_image(tmp_path / "a.png", fmt="PNG"), MediaTooLarge, limits=Limits(max_pixels=10_000)
    )
    assert "76,800" in error.message and "10,000" in error.message


def test_an_image_far_over_the_pixel_limit_is_too_large(tmp_path: Path) -> None:
    _refused(
        make_image(tmp_path / "a.png", fmt="PNG"), MediaTooLarge, limits=Limits(max_pixels=100)
    )


def test_a_video_reports_its_size_duration_codecs_and_streams(video: Path) -> None:
    info = probe(video, limits=LIMITS)
    assert (info.kind, info.format, info.width, info.height) == (MediaKind.VIDEO, "mp4", 320, 240)
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert (info.video_codec, info.audio_codec, info.rotation) == ("h264", "aac", 0)
    assert info.streams[0] == {
        "index": 0,
        "codec_type": "video",
        "codec_name": "h264",
        "width": 320,
        "height": 240,
    }
    assert info.streams[1] == {
        "index": 1,
        "codec_type": "audio",
        "codec_name": "aac",
        "channels": 1,
        "sample_rate": 44100,
    }


def test_a_phone_video_reports_its_displayed_size_and_rotation(rotated_video: Path) -> None:
    info = probe(rotated_video, limits=LIMITS)
    assert (info.width, info.height, info.rotation) == (240, 320, 90)


def test_an_mp3_is_audio(audio: Path) -> None:
    info = probe(audio, limits=LIMITS)
    assert (info.kind, info.format, info.audio_codec) == (MediaKind.AUDIO, "mp3", "mp3")
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert info.width is None


def test_an_mp3_with_cover_art_is_still_audio(audio: Path, tmp_path: Path) -> None:
    cover = make_image(tmp_path / "cover.jpg", size=(32, 32))
    tagged = tmp_path / "tagged.mp3"
    subprocess.run(
        [
            *("ffmpeg", "-loglevel", "error", "-i", str(audio), "-i", str(cover), "-map", "0"),
            *("-map", "1", "-c", "copy", "-disposition:v", "attached_pic", str(tagged)),
        ],
        check=True,
    )
    assert probe(tagged, limits=LIMITS).kind is MediaKind.AUDIO


def test_media_longer_than_the_limit_is_too_large(video: Path) -> None:
    _refused(video, MediaTooLarge, limits=Limits(max_duration=0.5))


def test_a_truncated_mp4_without_its_moov_is_invalid(video: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    _refused(cut, InvalidMedia)


def test_a_text_file_named_mp4_is_invalid(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("these are my notes, not a video\n" * 20)
    _refused(text, InvalidMedia)


def test_a_concat_playlist_is_refused(video: Path, tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(video.read_bytes())
    playlist = tmp_path / "input"
    playlist.write_text("ffconcat version 1.0\nfile 'clip.mp4'\n")
    _refused(playlist, UnsupportedMedia)


def test_an_hls_playlist_is_refused(video: Path, tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(video.read_bytes())
    playlist = tmp_path / "input"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nclip.mp4\n#EXT-X-ENDLIST\n"
    )
    _refused(playlist, UnsupportedMedia)


def test_stream_rotation_reads_the_display_matrix_or_the_old_rotate_tag() -> None:
    assert stream_rotation({"side_data_list": [{"rotation": -90}]}) == 270
    assert stream_rotation({"tags": {"rotate": "180"}}) == 180
    assert stream_rotation({}) == 0
