from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.ops import OPS, get_op
from pipeline.ops.base import Queue


def test_the_registry_holds_every_op_under_its_own_name() -> None:
    assert sorted(OPS) == [
        "audio.transcode",
        "image.thumbnail",
        "media.probe",
        "video.poster",
        "video.transcode",
    ]
    assert all(op.name == name for name, op in OPS.items())


def test_light_ops_are_the_probe_and_the_thumbnail() -> None:
    light = {name for name, op in OPS.items() if op.queue is Queue.LIGHT}
    assert light == {"media.probe", "image.thumbnail"}


def test_get_op_raises_key_error_for_an_unknown_op() -> None:
    with pytest.raises(KeyError):
        get_op("video.explode")


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_refuses_unknown_parameters(name: str) -> None:
    with pytest.raises(ValidationError, match="extra"):
        get_op(name).params.model_validate({"width": 10, "height": 10, "colour": "red"})


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"width": 0},
        {"width": 10_001},
        {"width": 10, "quality": 0},
        {"width": 10, "format": "gif"},
    ],
)
def test_thumbnail_params_refuse_a_missing_box_and_out_of_range_values(
    params: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        get_op("image.thumbnail").params.model_validate(params)


@pytest.mark.parametrize(
    "params",
    [
        {"height": 15},
        {"height": 4321},
        {"crf": 52},
        {"preset": "placebo"},
        {"codec": "vp9"},
        {"audio_bitrate": "128"},
        {"audio_bitrate": "1k; rm -rf"},
    ],
)
def test_transcode_params_refuse_out_of_range_values(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        get_op("video.transcode").params.model_validate(params)


def test_transcode_params_have_sensible_defaults() -> None:
    params = get_op("video.transcode").params.model_validate({}).model_dump()
    assert params == {
        "height": 720,
        "codec": "h264",
        "crf": 23,
        "preset": "veryfast",
        "audio_bitrate": "128k",
    }


def test_audio_params_refuse_other_codecs_and_odd_bitrates() -> None:
    audio = get_op("audio.transcode").params
    assert audio.model_validate({}).model_dump() == {"codec": "aac", "bitrate": "128k"}
    with pytest.raises(ValidationError):
        audio.model_validate({"codec": "mp3"})
    with pytest.raises(ValidationError):
        audio.model_validate({"bitrate": "fast"})


def test_poster_params_refuse_a_negative_moment() -> None:
    with pytest.raises(ValidationError):
        get_op("video.poster").params.model_validate({"at": -1})
