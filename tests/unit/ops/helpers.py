"""Running an op the way the worker does, on a file in a test's ``tmp_path``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.ops import get_op
from pipeline.ops.base import Limits, OpContext, OpResult, ProgressFn


def run_op(
    name: str,
    source: Path,
    workdir: Path,
    *,
    progress: ProgressFn = lambda fraction: None,
    limits: Limits | None = None,
    **params: Any,
) -> OpResult:
    """Validate ``params`` as the op's parameters, then run the op on ``source``."""
    op = get_op(name)
    workdir.mkdir(exist_ok=True)
    ctx = OpContext(input=source, workdir=workdir, progress=progress, limits=limits or Limits())
    return op.run(ctx, op.params.model_validate(params))
