"""``media.probe``: what the upload is, for the job document and the ``auto`` pipeline."""

from __future__ import annotations

from typing import ClassVar

from pipeline.media.probe import probe
from pipeline.ops.base import OpContext, OpResult, Params, Queue


class ProbeParams(Params):
    """The probe takes no parameters."""


class MediaProbe:
    name: ClassVar[str] = "media.probe"
    queue: ClassVar[Queue] = Queue.LIGHT
    params: ClassVar[type[Params]] = ProbeParams

    def run(self, ctx: OpContext, params: Params) -> OpResult:
        return OpResult(media=probe(ctx.input, limits=ctx.limits))
