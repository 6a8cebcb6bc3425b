"""The shape every operation has: parameters in, one output file (or media facts) out.

An op does local work only: it reads ``ctx.input`` and writes inside ``ctx.workdir``. Fetching
inputs from storage and storing outputs is the worker's job, so ops run the same in tests,
under ``pony dev`` and on a fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from pipeline.media.info import MediaInfo
from pipeline.media.limits import Limits, ProgressFn


class Queue(StrEnum):
    LIGHT = "light"
    HEAVY = "heavy"


class Params(BaseModel):
    """Base of every op's parameters: unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, kw_only=True)
class OpContext:
    input: Path
    workdir: Path
    progress: ProgressFn
    limits: Limits


@dataclass(frozen=True, kw_only=True)
class Output:
    """One file an op made, with the facts the Job document shows about it."""

    path: Path
    content_type: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None


@dataclass(frozen=True, kw_only=True)
class OpResult:
    output: Output | None = None
    media: MediaInfo | None = None


class Op(Protocol):
    name: ClassVar[str]
    queue: ClassVar[Queue]
    params: ClassVar[type[Params]]

    def run(self, ctx: OpContext, params: Params) -> OpResult: ...


__all__ = ["Limits", "Op", "OpContext", "OpResult", "Output", "Params", "ProgressFn", "Queue"]
