"""Every operation a pipeline step can name, by name."""

from __future__ import annotations

from pipeline.ops.audio_transcode import AudioTranscode
from pipeline.ops.base import Op
from pipeline.ops.image_thumbnail import ImageThumbnail
from pipeline.ops.media_probe import MediaProbe
from pipeline.ops.video_poster import VideoPoster
from pipeline.ops.video_transcode import VideoTranscode

OPS: dict[str, Op] = {
    op.name: op
    for op in (MediaProbe(), ImageThumbnail(), VideoPoster(), VideoTranscode(), AudioTranscode())
}


def get_op(name: str) -> Op:
    """The op called ``name``; ``KeyError`` when there is none."""
    return OPS[name]


__all__ = ["OPS", "Op", "get_op"]
