"""What the probe learns about a file, as a value."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class MediaInfo:
    """Facts about one media file. ``width``/``height`` are as displayed (after rotation)."""

    kind: MediaKind
    format: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    rotation: int = 0
    video_codec: str | None = None
    audio_codec: str | None = None
    has_alpha: bool = False
    frames: int | None = None
    streams: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["streams"] = [dict(s) for s in self.streams]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        values = dict(data)
        values["kind"] = MediaKind(values["kind"])
        values["streams"] = tuple(values.get("streams") or ())
        return cls(**values)
