"""Named pipelines. ``auto`` (the default) grows once, after the probe, by the media's kind."""

from __future__ import annotations

from typing import Any

from pipeline.errors import InvalidPipeline, UnsupportedMedia
from pipeline.media.info import MediaKind

AUTO = "auto"

IMAGE: dict[str, Any] = {
    "steps": {
        "thumb_320": {"op": "image.thumbnail", "use": ":original", "width": 320, "height": 320},
        "thumb_1280": {"op": "image.thumbnail", "use": ":original", "width": 1280, "height": 1280},
    }
}
VIDEO: dict[str, Any] = {
    "steps": {
        "poster": {"op": "video.poster", "use": ":original"},
        "poster_320": {"op": "image.thumbnail", "use": "poster", "width": 320, "height": 320},
        "mp4_720p": {"op": "video.transcode", "use": ":original", "height": 720},
        "mp4_360p": {"op": "video.transcode", "use": ":original", "height": 360},
    }
}
AUDIO: dict[str, Any] = {
    "steps": {"m4a": {"op": "audio.transcode", "use": ":original", "bitrate": "128k"}}
}

BY_KIND: dict[MediaKind, tuple[str, dict[str, Any]]] = {
    MediaKind.IMAGE: ("image", IMAGE),
    MediaKind.VIDEO: ("video", VIDEO),
    MediaKind.AUDIO: ("audio", AUDIO),
}
PRESETS: dict[str, dict[str, Any]] = {name: doc for name, doc in BY_KIND.values()}


def describe() -> list[dict[str, Any]]:
    """Every preset with its document, for ``GET /v1/pipelines``."""
    auto = {
        "name": AUTO,
        "description": "picks image, video or audio by what the probe finds",
        "document": None,
        "expands_to": {kind.value: name for kind, (name, _) in BY_KIND.items()},
    }
    return [auto, *({"name": n, "document": d} for n, d in PRESETS.items())]


def document_for(name: str) -> dict[str, Any] | None:
    """The document of a preset; ``None`` for ``auto``, which waits for the probe."""
    if name == AUTO:
        return None
    if name not in PRESETS:
        raise InvalidPipeline(f"unknown pipeline preset {name!r}; see GET /v1/pipelines")
    return PRESETS[name]


def for_kind(kind: MediaKind) -> dict[str, Any]:
    """The document ``auto`` becomes for media of ``kind``."""
    if kind not in BY_KIND:
        raise UnsupportedMedia(f"no automatic pipeline for {kind.value} files")
    return BY_KIND[kind][1]
