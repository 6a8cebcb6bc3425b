from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import InvalidMedia, UnsupportedMedia
from pipeline.media import image
from tests.factories import BLUE, RED, make_image, picture

MAX = 100_000_000


def _close(actual: object, expected: tuple[int, ...], tolerance: int = 12) -> bool:
    assert isinstance(actual, tuple)
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def test_load_upright_turns_an_exif_orientation_6_jpeg_upright(tmp_path: Path) -> None:
    loaded = image.load_upright(
        make_image(tmp_path / "a.jpg", size=(64, 48), exif_orientation=6), max_pixels=MAX
    )
    assert loaded.size == (48, 64)
    assert _close(loaded.getpixel((24, 4)), RED)
    assert _close(loaded.getpixel((24, 60)), BLUE)


def test_load_upright_takes_the_first_frame_of_an_animation(tmp_path: Path) -> None:
    loaded = image.load_upright(
        make_image(tmp_path / "a.gif", mode="P", fmt="GIF", frames=3), max_pixels=MAX
    )
    assert loaded.mode == "RGBA"
    assert loaded.getpixel((161, 10)) == (*BLUE, 255)


def test_load_upright_refuses_a_truncated_png(tmp_path: Path) -> None:
    path = make_image(tmp_path / "a.png", fmt="PNG")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InvalidMedia):
        image.load_upright(path, max_pixels=MAX)


def test_load_upright_refuses_an_image_format_we_do_not_take(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia):
        image.load_upright(make_image(tmp_path / "a.ppm", fmt="PPM"), max_pixels=MAX)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("CMYK", "RGB"),
        ("I;16", "L"),
        ("I", "L"),
        ("P", "RGBA"),
        ("LA", "RGBA"),
        ("1", "L"),
        ("L", "L"),
        ("RGBA", "RGBA"),
        ("YCbCr", "RGB"),
    ],
)
def test_normalize_mode_gives_l_rgb_or_rgba(mode: str, expected: str) -> None:
    assert image.normalize_mode(picture((8, 8), mode)).mode == expected


def test_normalize_mode_scales_16_bit_grey_down_instead_of_clipping() -> None:
    grey = image.normalize_mode(picture((8, 8), "I;16"))
    assert grey.getpixel((0, 0)) == pytest.approx(RED[0] * 0.299, abs=2)


def test_normalize_mode_turns_an_opaque_palette_into_rgb() -> None:
    assert image.normalize_mode(picture((8, 8), "RGB").convert("P")).mode == "RGB"


def test_thumbnail_never_upscales_a_small_image() -> None:
    assert image.thumbnail(picture((40, 30), "RGB"), max_width=320, max_height=320).size == (40, 30)


def test_thumbnail_fits_inside_the_box_keeping_the_aspect() -> None:
    small = image.thumbnail(picture((320, 240), "RGB"), max_width=100, max_height=100)
    assert small.size == (100, 75)


@pytest.mark.parametrize(
    ("requested", "transparent", "expected"),
    [
        ("auto", False, "jpeg"),
        ("auto", True, "webp"),
        ("png", False, "png"),
        ("jpeg", True, "jpeg"),
    ],
)
def test_choose_format_picks_jpeg_for_opaque_and_webp_for_transparent_on_auto(
    requested: image.RequestedFormat, transparent: bool, expected: str
) -> None:
    assert image.choose_format(requested, transparent=transparent) == expected


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_save_writes_no_exif(tmp_path: Path, fmt: image.ImageFormat) -> None:
    source = make_image(tmp_path / "in.jpg", exif_orientation=6)
    with Image.open(source) as opened:
        exif = opened.getexif()
        exif[0x010F] = "SecretCam"
        opened.info["exif"] = exif.tobytes()
        opened.load()
        out = tmp_path / f"out.{fmt}"
        image.save(opened, out, fmt=fmt, quality=80)
    with Image.open(out) as written:
        assert written.format == fmt.upper()
        assert "exif" not in written.info
        assert len(written.getexif()) == 0
    assert b"SecretCam" not in out.read_bytes()


def test_save_as_jpeg_flattens_transparency_onto_white(tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    image.save(picture((64, 48), "RGBA"), out, fmt="jpeg", quality=90)
    with Image.open(out) as written:
        assert written.mode == "RGB"
        assert _close(written.getpixel((10, 46)), (255, 255, 255))


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_save_writes_grey_images_in_every_format(tmp_path: Path, fmt: image.ImageFormat) -> None:
    out = tmp_path / f"out.{fmt}"
    image.save(picture((16, 16), "L"), out, fmt=fmt, quality=80)
    with Image.open(out) as written:
        assert written.size == (16, 16)
        assert written.mode in ("L", "RGB")
