from __future__ import annotations

import pytest

from pipeline.media.geometry import (
    even_size_for_height,
    fit_within,
    normalize_rotation,
    rotated_size,
)


def test_fit_within_shrinks_to_the_box_keeping_the_aspect() -> None:
    assert fit_within(4000, 3000, 320, 320) == (320, 240)
    assert fit_within(3000, 4000, 320, 320) == (240, 320)


def test_fit_within_never_upscales_a_small_image() -> None:
    assert fit_within(100, 50, 1280, 1280) == (100, 50)


def test_fit_within_keeps_at_least_one_pixel_a_side() -> None:
    assert fit_within(10_000, 1, 100, 100) == (100, 1)
    assert fit_within(1, 10_000, 100, 100) == (1, 100)


def test_fit_within_obeys_the_tighter_side_of_a_box() -> None:
    assert fit_within(1000, 1000, 500, 100) == (100, 100)


def test_fit_within_refuses_a_zero_side() -> None:
    with pytest.raises(ValueError):
        fit_within(0, 10, 10, 10)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ((1920, 1080), 720, (1280, 720)),
        ((1920, 1080), 360, (640, 360)),
        ((1080, 1920), 720, (406, 720)),
        ((640, 360), 720, (640, 360)),
        ((321, 241), 720, (320, 240)),
        ((3, 1), 720, (2, 2)),
    ],
)
def test_even_size_for_height_keeps_aspect_never_upscales_and_is_even(
    source: tuple[int, int], target: int, expected: tuple[int, int]
) -> None:
    size = even_size_for_height(*source, target)
    assert size == expected
    assert size[0] % 2 == 0 and size[1] % 2 == 0


def test_normalize_rotation_gives_a_quarter_turn_in_0_to_270() -> None:
    assert [normalize_rotation(d) for d in (0, 90, -90, 180, -180, 270, 360, 89.9)] == [
        0,
        90,
        270,
        180,
        180,
        270,
        0,
        90,
    ]


def test_rotated_size_swaps_sides_for_quarter_turns_only() -> None:
    assert rotated_size(320, 240, 90) == (240, 320)
    assert rotated_size(320, 240, -90) == (240, 320)
    assert rotated_size(320, 240, 180) == (320, 240)
