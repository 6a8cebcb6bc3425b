"""Pure size arithmetic for thumbnails, posters and renditions. No IO, no Pillow, no ffmpeg."""

from __future__ import annotations

import math

Size = tuple[int, int]


def fit_within(width: int, height: int, max_width: int, max_height: int) -> Size:
    """The largest size with the aspect of ``width``x``height`` inside the box, never upscaled.

    Each side is at least 1 pixel. A source already inside the box keeps its size.
    """
    _check_positive(width=width, height=height, max_width=max_width, max_height=max_height)
    scale = min(max_width / width, max_height / height, 1.0)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def even_size_for_height(display_width: int, display_height: int, target_height: int) -> Size:
    """The rendition size for ``target_height``: aspect kept, never taller than the source,
    both sides rounded to the nearest even number (H.264 4:2:0 needs even sides), at least 2.

    Halves round up unless that would make a side larger than the source's.
    """
    _check_positive(
        display_width=display_width, display_height=display_height, target_height=target_height
    )
    height = min(target_height, display_height)
    width = display_width * height / display_height
    return _nearest_even(width, ceiling=display_width), _nearest_even(
        height, ceiling=display_height
    )


def normalize_rotation(degrees: float) -> int:
    """A rotation in degrees as one of 0, 90, 180 or 270 (to the nearest quarter turn)."""
    return (round(degrees / 90) * 90) % 360


def rotated_size(width: int, height: int, rotation: int) -> Size:
    """The displayed size of a ``width``x``height`` frame shown rotated by ``rotation`` degrees."""
    if normalize_rotation(rotation) in (90, 270):
        return height, width
    return width, height


def _nearest_even(value: float, *, ceiling: int) -> int:
    even = math.floor(value / 2 + 0.5) * 2
    if even > ceiling:
        even -= 2
    return max(2, even)


def _check_positive(**sides: int) -> None:
    for name, value in sides.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
