"""``video.transcode``: an upright H.264/AAC MP4 rendition that plays while it downloads."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from pipeline.errors import UnsupportedMedia
from pipeline.media import ffmpeg
from pipeline.media.geometry import even_size_for_height
from pipeline.media.info import MediaKind
from pipeline.media.probe import probe
from pipeline.ops.base import OpContext, OpResult, Output, Params, Queue

Preset = Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"]


class TranscodeParams(Params):
    """``height`` is a ceiling: a smaller source keeps its size."""

    height: int = Field(default=720, ge=16, le=4320)
    codec: Literal["h264"] = "h264"
    crf: int = Field(default=23, ge=0, le=51)
    preset: Preset = "veryfast"
    audio_bitrate: str = Field(default="128k", pattern=r"^[1-9][0-9]{1,2}k$")


class VideoTranscode:
    name: ClassVar[str] = "video.transcode"
    queue: ClassVar[Queue] = Queue.HEAVY
    params: ClassVar[type[Params]] = TranscodeParams

    def run(self, ctx: OpContext, params: Params) -> OpResult:
        p = TranscodeParams.model_validate(params)
        info = probe(ctx.input, limits=ctx.limits)
        if info.kind is not MediaKind.VIDEO or info.width is None or info.height is None:
            raise UnsupportedMedia(f"a transcode needs a video, and this is {info.kind.value}")
        width, height = even_size_for_height(info.width, info.height, p.height)
        path = ctx.workdir / "video.mp4"
        argv = ffmpeg.transcode_argv(
            ctx.input,
            path,
            width=width,
            height=height,
            has_audio=info.audio_codec is not None,
            crf=p.crf,
            preset=p.preset,
            audio_bitrate=p.audio_bitrate,
        )
        ffmpeg.run(
            argv, deadline=ctx.limits.deadline, duration=info.duration, progress=ctx.progress
        )
        made = probe(path, limits=ctx.limits)
        return OpResult(
            output=Output(
                path=path,
                content_type="video/mp4",
                width=made.width,
                height=made.height,
                duration=made.duration,
            )
        )
