"""``video.poster``: one upright JPEG frame of the video, at its display size."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from pipeline.errors import ProcessingError, UnsupportedMedia
from pipeline.media import ffmpeg
from pipeline.media.info import MediaKind
from pipeline.media.probe import probe
from pipeline.ops.base import OpContext, OpResult, Output, Params, Queue

DEFAULT_FRACTION = 0.1
DEFAULT_CAP = 5.0
END_MARGIN = 0.5


class PosterParams(Params):
    """``at``: the moment in seconds; by default 10% into the video, at most 5 s."""

    at: float | None = Field(default=None, ge=0, le=86_400)


def poster_time(at: float | None, duration: float | None) -> float:
    """When to take the frame: ``at`` kept clear of the very end, where there may be no frame
    left to decode; by default 10% of ``duration``, capped at 5 s (0 when it is unknown)."""
    if duration is None:
        return at or 0.0
    if at is None:
        return min(duration * DEFAULT_FRACTION, DEFAULT_CAP)
    return min(at, max(0.0, duration - END_MARGIN))


class VideoPoster:
    name: ClassVar[str] = "video.poster"
    queue: ClassVar[Queue] = Queue.HEAVY
    params: ClassVar[type[Params]] = PosterParams

    def run(self, ctx: OpContext, params: Params) -> OpResult:
        p = PosterParams.model_validate(params)
        info = probe(ctx.input, limits=ctx.limits)
        if info.kind is not MediaKind.VIDEO or info.width is None or info.height is None:
            raise UnsupportedMedia(f"a poster needs a video, and this is {info.kind.value}")
        path = ctx.workdir / "poster.jpg"
        moment = poster_time(p.at, info.duration)
        for attempt in dict.fromkeys((moment, 0.0)):
            argv = ffmpeg.poster_argv(
                ctx.input, path, at=attempt, width=info.width, height=info.height
            )
            ffmpeg.run(argv, deadline=ctx.limits.deadline)
            if path.exists() and path.stat().st_size > 0:
                break
        else:
            raise ProcessingError("the video has no frame to make a poster from")
        made = probe(path, limits=ctx.limits)
        return OpResult(
            output=Output(
                path=path, content_type="image/jpeg", width=made.width, height=made.height
            )
        )
