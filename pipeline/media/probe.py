"""What a file is: Pillow for still images, ffprobe for video and audio.

Every refusal is an ``InputError`` whose message tells the user what is wrong with their
file, never where it lies on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from pipeline.errors import (
    DeadlineExceeded,
    InvalidMedia,
    MediaTooLarge,
    ProcessingError,
    UnsupportedMedia,
)
from pipeline.media import ffmpeg
from pipeline.media.geometry import normalize_rotation, rotated_size
from pipeline.media.image import (
    BOMB_ERRORS,
    DECODE_ERRORS,
    bomb_pixels,
    check_format,
    has_alpha,
    open_image,
    too_many_pixels,
)
from pipeline.media.info import MediaInfo, MediaKind
from pipeline.media.limits import Limits

VIDEO_LOOKALIKES = frozenset({"MPEG"})
"""Pillow formats that are really video streams: left to ffprobe."""

REFUSED_DEMUXERS = frozenset(
    {
        *("hls", "applehttp", "concat", "ffconcat", "dash", "imf", "sdp", "rtp", "rtsp"),
        *("tty", "bin", "xbin", "adf", "idf", "ffmetadata", "lavfi", "image2"),
    }
)
"""Formats that read other files (playlists, references) or render text as video."""

_MP4_BRANDS = {"qt": "mov", "m4a": "m4a", "m4b": "m4a", "3gp": "3gp", "3g2": "3gp"}
PROBE_DEADLINE = 60.0
_ORIENTATION = 0x0112
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})


def probe(path: Path, *, limits: Limits) -> MediaInfo:
    """The facts about the media in ``path``; raises ``InvalidMedia``, ``UnsupportedMedia`` or
    ``MediaTooLarge`` for files we will not process."""
    if path.stat().st_size == 0:
        raise InvalidMedia("the file is empty")
    info = _probe_image(path, limits=limits)
    if info is None:
        info = _probe_av(path, limits=limits)
    return info


def _probe_image(path: Path, *, limits: Limits) -> MediaInfo | None:
    """The image facts, or ``None`` when Pillow does not take the file for an image."""
    try:
        with open_image(path, max_pixels=limits.max_pixels) as image:
            if image.format in VIDEO_LOOKALIKES:
                return None
            return _image_info(image)
    except UnidentifiedImageError:
        return None
    except BOMB_ERRORS as exc:
        raise too_many_pixels(bomb_pixels(exc), limits.max_pixels) from exc
    except DECODE_ERRORS as exc:
        raise InvalidMedia("the image is truncated or corrupt") from exc


def _image_info(image: Image.Image) -> MediaInfo:
    fmt = check_format(image)
    frames: int = getattr(image, "n_frames", 1)
    image.load()
    width, height = image.size
    if image.getexif().get(_ORIENTATION) in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return MediaInfo(
        kind=MediaKind.IMAGE,
        format=fmt,
        width=width,
        height=height,
        has_alpha=has_alpha(image),
        frames=frames,
    )


def _probe_av(path: Path, *, limits: Limits) -> MediaInfo:
    report = _ffprobe(path, deadline=min(PROBE_DEADLINE, limits.deadline))
    demuxers = set(str(report.get("format", {}).get("format_name", "")).split(","))
    if demuxers & REFUSED_DEMUXERS or any(d.endswith("_pipe") for d in demuxers):
        raise UnsupportedMedia("this file format is not supported; send a video or audio file")
    streams: list[dict[str, Any]] = report.get("streams", [])
    video = next((s for s in streams if _is_real_video(s)), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is not None:
        info = _video_info(report, video, audio)
    elif audio is not None:
        info = _audio_info(report, audio)
    else:
        raise UnsupportedMedia("the file has no video or audio stream")
    _check_limits(info, limits)
    return info


def _ffprobe(path: Path, *, deadline: float) -> dict[str, Any]:
    try:
        output = ffmpeg.run_capture(ffmpeg.probe_argv(path), deadline=deadline)
        report = json.loads(output)
    except DeadlineExceeded:
        raise
    except (ProcessingError, ValueError) as exc:
        raise InvalidMedia(
            "the file is not a recognised image, video or audio file, or it is damaged"
        ) from exc
    if not isinstance(report, dict):
        raise InvalidMedia("the file is not a recognised image, video or audio file")
    return report


def _is_real_video(stream: dict[str, Any]) -> bool:
    """A video stream that is not cover art attached to an audio file."""
    attached = stream.get("disposition", {}).get("attached_pic", 0)
    return stream.get("codec_type") == "video" and not attached


def _video_info(
    report: dict[str, Any], video: dict[str, Any], audio: dict[str, Any] | None
) -> MediaInfo:
    rotation = stream_rotation(video)
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width < 1 or height < 1:
        raise InvalidMedia("the video stream has no picture size")
    width, height = rotated_size(width, height, rotation)
    return MediaInfo(
        kind=MediaKind.VIDEO,
        format=_format_name(report),
        width=width,
        height=height,
        duration=_duration(report, video),
        rotation=rotation,
        video_codec=video.get("codec_name"),
        audio_codec=audio.get("codec_name") if audio else None,
        frames=_int(video.get("nb_frames")),
        streams=_summaries(report),
    )


def _audio_info(report: dict[str, Any], audio: dict[str, Any]) -> MediaInfo:
    return MediaInfo(
        kind=MediaKind.AUDIO,
        format=_format_name(report),
        duration=_duration(report, audio),
        audio_codec=audio.get("codec_name"),
        streams=_summaries(report),
    )


def stream_rotation(stream: dict[str, Any]) -> int:
    """The display rotation of a video stream (0, 90, 180 or 270), from its display matrix
    side data or, for older files, its ``rotate`` tag."""
    for side in stream.get("side_data_list", []):
        if "rotation" in side:
            return normalize_rotation(float(side["rotation"]))
    rotate = stream.get("tags", {}).get("rotate")
    return normalize_rotation(float(rotate)) if rotate else 0


def _check_limits(info: MediaInfo, limits: Limits) -> None:
    if info.duration is not None and info.duration > limits.max_duration:
        raise MediaTooLarge(
            f"the media lasts {info.duration:.0f} s, over the limit of {limits.max_duration:g} s"
        )
    pixels = (info.width or 0) * (info.height or 0)
    if pixels > limits.max_pixels:
        raise MediaTooLarge(
            f"the video has {pixels:,} pixels a frame, over the limit of {limits.max_pixels:,}"
        )


def _format_name(report: dict[str, Any]) -> str:
    """ffprobe's demuxer name; the MP4 family is told apart by its major brand."""
    container = report.get("format", {})
    name = str(container.get("format_name", "unknown")).split(",")[0]
    if name != "mov":
        return name
    brand = str(container.get("tags", {}).get("major_brand", "")).strip().lower()
    return _MP4_BRANDS.get(brand[:3], "mp4")


def _duration(report: dict[str, Any], stream: dict[str, Any]) -> float | None:
    for value in (report.get("format", {}).get("duration"), stream.get("duration")):
        parsed = _float(value)
        if parsed is not None and parsed > 0:
            return parsed
    return None


def _summaries(report: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    return tuple(_summary(s) for s in report.get("streams", []))


def _summary(stream: dict[str, Any]) -> dict[str, Any]:
    summary = {key: stream.get(key) for key in ("index", "codec_type", "codec_name")}
    if stream.get("codec_type") == "video":
        summary |= {"width": stream.get("width"), "height": stream.get("height")}
    elif stream.get("codec_type") == "audio":
        summary |= {
            "channels": stream.get("channels"),
            "sample_rate": _int(stream.get("sample_rate")),
        }
    return summary


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    parsed = _float(value)
    return int(parsed) if parsed is not None else None
