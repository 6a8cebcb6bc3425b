"""``image.thumbnail``: the image fitted inside a box, upright, with no metadata."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from pipeline.media import image
from pipeline.media.probe import probe
from pipeline.ops.base import OpContext, OpResult, Output, Params, Queue


class ThumbnailParams(Params):
    """A box to fit in (at least one side), the output format and the JPEG/WebP quality."""

    width: int | None = Field(default=None, ge=1, le=10_000)
    height: int | None = Field(default=None, ge=1, le=10_000)
    format: Literal["auto", "jpeg", "png", "webp"] = "auto"
    quality: int = Field(default=82, ge=1, le=100)

    @model_validator(mode="after")
    def _needs_a_side(self) -> ThumbnailParams:
        if self.width is None and self.height is None:
            raise ValueError("give width, height or both")
        return self


class ImageThumbnail:
    name: ClassVar[str] = "image.thumbnail"
    queue: ClassVar[Queue] = Queue.LIGHT
    params: ClassVar[type[Params]] = ThumbnailParams

    def run(self, ctx: OpContext, params: Params) -> OpResult:
        p = ThumbnailParams.model_validate(params)
        picture = image.load_upright(ctx.input, max_pixels=ctx.limits.max_pixels)
        small = image.thumbnail(
            picture,
            max_width=p.width or picture.width,
            max_height=p.height or picture.height,
        )
        fmt = image.choose_format(p.format, transparent=small.mode == "RGBA")
        path = ctx.workdir / f"thumbnail.{image.EXTENSIONS[fmt]}"
        image.save(small, path, fmt=fmt, quality=p.quality)
        made = probe(path, limits=ctx.limits)
        return OpResult(
            output=Output(
                path=path,
                content_type=image.CONTENT_TYPES[fmt],
                width=made.width,
                height=made.height,
            )
        )
