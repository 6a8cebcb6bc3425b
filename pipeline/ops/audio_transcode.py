"""``audio.transcode``: the audio track of an audio or video file as AAC in an M4A."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from pipeline.errors import UnsupportedMedia
from pipeline.media import ffmpeg
from pipeline.media.probe import probe
from pipeline.ops.base import OpContext, OpResult, Output, Params, Queue


class AudioParams(Params):
    codec: Literal["aac"] = "aac"
    bitrate: str = Field(default="128k", pattern=r"^[1-9][0-9]{1,2}k$")


class AudioTranscode:
    name: ClassVar[str] = "audio.transcode"
    queue: ClassVar[Queue] = Queue.HEAVY
    params: ClassVar[type[Params]] = AudioParams

    def run(self, ctx: OpContext, params: Params) -> OpResult:
        p = AudioParams.model_validate(params)
        info = probe(ctx.input, limits=ctx.limits)
        if info.audio_codec is None:
            raise UnsupportedMedia("the file has no audio track")
        path = ctx.workdir / "audio.m4a"
        argv = ffmpeg.audio_argv(ctx.input, path, bitrate=p.bitrate)
        ffmpeg.run(
            argv, deadline=ctx.limits.deadline, duration=info.duration, progress=ctx.progress
        )
        made = probe(path, limits=ctx.limits)
        return OpResult(output=Output(path=path, content_type="audio/mp4", duration=made.duration))
