from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pipeline.errors import InvalidMedia
from tests.factories import BLUE, RED, make_image
from tests.unit.ops.helpers import run_op


def _thumbnail(source: Path, tmp_path: Path, **params: Any) -> tuple[Image.Image, Path]:
    result = run_op("image.thumbnail", source, tmp_path / "work", **params)
    assert result.output is not None and result.media is None
    written = Image.open(result.output.path)
    written.load()
    assert (result.output.width, result.output.height) == written.size
    return written, result.output.path


def _close(actual: object, expected: tuple[int, ...], tolerance: int = 16) -> bool:
    assert isinstance(actual, tuple)
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def test_a_jpeg_becomes_a_jpeg_fitted_in_the_box_with_no_exif(tmp_path: Path) -> None:
    source = make_image(tmp_path / "in.jpg", exif_orientation=1)
    written, path = _thumbnail(source, tmp_path, width=100, height=100)
    assert (written.format, written.mode, written.size) == ("JPEG", "RGB", (100, 75))
    assert path.name == "thumbnail.jpg"
    assert len(written.getexif()) == 0


def test_thumbnail_never_upscales_a_small_image(tmp_path: Path) -> None:
    written, _ = _thumbnail(make_image(tmp_path / "in.png", size=(40, 30)), tmp_path, width=1280)
    assert written.size == (40, 30)


def test_a_height_alone_is_a_box_of_that_height(tmp_path: Path) -> None:
    written, _ = _thumbnail(make_image(tmp_path / "in.jpg"), tmp_path, height=60)
    assert written.size == (80, 60)


def test_an_exif_rotated_photo_comes_out_upright(tmp_path: Path) -> None:
    source = make_image(tmp_path / "in.jpg", size=(64, 48), exif_orientation=6)
    written, _ = _thumbnail(source, tmp_path, width=32, height=32)
    assert written.size == (24, 32)
    assert _close(written.getpixel((12, 2)), RED)
    assert _close(written.getpixel((12, 29)), BLUE)


@pytest.mark.parametrize(
    ("mode", "fmt"), [("RGBA", "PNG"), ("P", "PNG"), ("LA", "PNG"), ("P", "GIF")]
)
def test_a_transparent_image_becomes_a_transparent_webp(
    tmp_path: Path, mode: str, fmt: str
) -> None:
    written, path = _thumbnail(make_image(tmp_path / "in", mode=mode, fmt=fmt), tmp_path, width=64)
    assert (written.format, written.mode, path.name) == ("WEBP", "RGBA", "thumbnail.webp")
    assert written.getpixel((10, 47))[3] == 0  # type: ignore[index]


@pytest.mark.parametrize(("mode", "expected"), [("CMYK", "RGB"), ("I;16", "L")])
def test_cmyk_and_16_bit_images_become_ordinary_jpegs(
    tmp_path: Path, mode: str, expected: str
) -> None:
    fmt = "JPEG" if mode == "CMYK" else "TIFF"
    written, _ = _thumbnail(make_image(tmp_path / "in", mode=mode, fmt=fmt), tmp_path, width=64)
    assert (written.format, written.mode) == ("JPEG", expected)


def test_an_animated_gif_gives_its_first_frame(tmp_path: Path) -> None:
    source = make_image(tmp_path / "in.gif", mode="P", fmt="GIF", frames=3)
    written, _ = _thumbnail(source, tmp_path, width=320, format="png")
    assert (written.format, written.size) == ("PNG", (320, 240))
    assert getattr(written, "n_frames", 1) == 1
    assert written.convert("RGB").getpixel((161, 10)) == BLUE


def test_a_truncated_jpeg_is_invalid(tmp_path: Path) -> None:
    source = make_image(tmp_path / "in.jpg", size=(256, 256))
    source.write_bytes(source.read_bytes()[:300])
    with pytest.raises(InvalidMedia):
        run_op("image.thumbnail", source, tmp_path / "work", width=10)


def test_the_thumbnail_of_a_video_poster_works(video: Path, tmp_path: Path) -> None:
    poster = run_op("video.poster", video, tmp_path / "poster").output
    assert poster is not None
    written, _ = _thumbnail(poster.path, tmp_path, width=160, height=160)
    assert (written.format, written.size) == ("JPEG", (160, 120))
