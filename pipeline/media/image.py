"""Pillow operations on still images: open under a pixel limit, turn upright, normalise the
mode, resize, and save with no metadata.

``auto`` output is JPEG for opaque images and WebP for images with transparency: WebP keeps
the alpha channel at a fraction of PNG's size, and every current browser shows it.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import InvalidMedia, MediaTooLarge, UnsupportedMedia
from pipeline.media.geometry import fit_within

ImageFormat = Literal["jpeg", "png", "webp"]
RequestedFormat = Literal["auto", "jpeg", "png", "webp"]

CONTENT_TYPES: dict[ImageFormat, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
EXTENSIONS: dict[ImageFormat, str] = {"jpeg": "jpg", "png": "png", "webp": "webp"}

FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
FORMATS |= {"TIFF": "tiff", "BMP": "bmp"}
"""Pillow formats we take, and the name we report (MPO is a camera's multi-picture JPEG)."""

DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
"""What Pillow raises on a damaged file, beyond ``UnidentifiedImageError``."""

BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)
"""What Pillow raises over its pixel limit (the warning is an error under ``-W error``)."""

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_KEPT_MODES = frozenset({"L", "RGB", "RGBA"})


def open_image(path: Path, *, max_pixels: int) -> Image.Image:
    """Open ``path`` lazily (header only), refusing more than ``max_pixels`` pixels.

    Raises ``UnidentifiedImageError`` when Pillow does not know the file, ``MediaTooLarge``
    over the limit. Pillow's own bomb guard is set to the same limit as a backstop (it also
    checks animation frames as they are read); it is a process-wide setting, which is fine
    as long as one process runs with one ``Limits``.
    """
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = Image.open(path)
    except BOMB_ERRORS as exc:
        raise too_many_pixels(bomb_pixels(exc), max_pixels) from exc
    if image.width * image.height > max_pixels:
        image.close()
        raise too_many_pixels(image.width * image.height, max_pixels)
    return image


def too_many_pixels(pixels: int | None, max_pixels: int) -> MediaTooLarge:
    """The error for an image over the pixel limit, naming both numbers when known."""
    if pixels is None:
        return MediaTooLarge(f"the image is over the limit of {max_pixels:,} pixels")
    return MediaTooLarge(f"the image has {pixels:,} pixels, over the limit of {max_pixels:,}")


def bomb_pixels(exc: Exception) -> int | None:
    """The pixel count in Pillow's bomb message: "Image size (N pixels) exceeds limit ..."."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return int(found.group(1)) if found else None


def check_format(image: Image.Image) -> str:
    """The name of ``image``'s format; ``UnsupportedMedia`` when we do not take it."""
    name = FORMATS.get(image.format or "")
    if name is None:
        raise UnsupportedMedia(f"{image.format} images are not supported; send JPEG, PNG or WebP")
    return name


def has_alpha(image: Image.Image) -> bool:
    """Whether ``image`` has a transparency channel or a transparent colour."""
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def load_upright(path: Path, *, max_pixels: int) -> Image.Image:
    """The first frame of ``path``, decoded, turned upright by its EXIF orientation, in one
    of the modes L, RGB or RGBA. Raises ``InvalidMedia`` for a truncated or corrupt file."""
    try:
        with open_image(path, max_pixels=max_pixels) as image:
            check_format(image)
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
            return normalize_mode(upright)
    except UnidentifiedImageError as exc:
        raise InvalidMedia("the file is not a recognised image") from exc
    except BOMB_ERRORS as exc:
        raise too_many_pixels(bomb_pixels(exc), max_pixels) from exc
    except DECODE_ERRORS as exc:
        raise InvalidMedia("the image is truncated or corrupt") from exc


def normalize_mode(image: Image.Image) -> Image.Image:
    """``image`` in L, RGB or RGBA: CMYK and other colour spaces to RGB, 16-bit and float
    to 8-bit grey, palettes and grey+alpha to RGBA when transparent. Drops the ICC profile
    when the mode changes, since it described the old colour space."""
    if image.mode in _KEPT_MODES:
        return image
    if image.mode in _SIXTEEN_BIT_MODES:
        converted = _to_eight_bit(image)
    elif has_alpha(image):
        converted = image.convert("RGBA")
    elif image.mode in ("1", "P"):
        converted = image.convert("RGB" if image.mode == "P" else "L")
    else:
        converted = image.convert("RGB")
    converted.info.pop("icc_profile", None)
    return converted


def _to_eight_bit(image: Image.Image) -> Image.Image:
    """16-bit grey scaled down to 8 bits (not clipped, which would turn it nearly white)."""
    wide = image.convert("I") if image.mode != "F" else image
    return wide.point(lambda value: value / 256).convert("L")


def thumbnail(image: Image.Image, *, max_width: int, max_height: int) -> Image.Image:
    """``image`` fitted inside ``max_width``x``max_height`` with LANCZOS; never upscaled."""
    size = fit_within(image.width, image.height, max_width, max_height)
    if size == image.size:
        return image.copy()
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def choose_format(requested: RequestedFormat, *, transparent: bool) -> ImageFormat:
    """The format to write: ``auto`` is WebP when ``transparent``, else JPEG."""
    if requested != "auto":
        return requested
    return "webp" if transparent else "jpeg"


def save(image: Image.Image, path: Path, *, fmt: ImageFormat, quality: int) -> None:
    """Write ``image`` as ``fmt`` with no EXIF, XMP or comments (the ICC profile is kept)."""
    ready = _for_format(image, fmt)
    icc = image.info.get("icc_profile") if ready.mode == image.mode else None
    options: dict[str, object] = {"optimize": True}
    if fmt in ("jpeg", "webp"):
        options["quality"] = quality
    if icc:
        options["icc_profile"] = icc
    ready.info = {}
    ready.save(path, format=fmt.upper(), **options)


def _for_format(image: Image.Image, fmt: ImageFormat) -> Image.Image:
    """``image`` in a mode ``fmt`` stores: JPEG has no alpha, so transparency is flattened
    onto white; WebP has no grey, so grey becomes RGB."""
    if fmt == "jpeg" and image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    if fmt == "webp" and image.mode == "L":
        return image.convert("RGB")
    return image.copy()
