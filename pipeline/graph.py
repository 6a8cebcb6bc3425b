"""Pipeline documents: validation into a plan, and which steps are ready to run.

A document is ``{"steps": {name: {"op": ..., "use": ..., **params}}}``. Steps form a graph
through ``use``; ``:original`` is the upload. Every plan starts with the ``probe`` step, and
every step that reads the original waits for it, so bad input fails once, early.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from pipeline.errors import InvalidPipeline, UnsupportedMedia
from pipeline.jobs import StepStatus
from pipeline.media.info import MediaKind
from pipeline.ops import get_op

ORIGINAL = ":original"
PROBE = "probe"
PROBE_OP = "media.probe"
MAX_STEPS = 32
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True, kw_only=True)
class StepSpec:
    name: str
    op: str
    use: str
    params: dict[str, Any]
    queue: str


def probe_step() -> StepSpec:
    return StepSpec(name=PROBE, op=PROBE_OP, use=ORIGINAL, params={}, queue="light")


def parse_steps(document: Any, *, reserved: Iterable[str] = (PROBE,)) -> list[StepSpec]:
    """Validate a document's steps; raise ``InvalidPipeline`` naming the step at fault."""
    if not isinstance(document, Mapping) or not isinstance(document.get("steps"), Mapping):
        raise InvalidPipeline('a pipeline document is an object with a "steps" object')
    if set(document) - {"steps"}:
        raise InvalidPipeline(f"unknown pipeline field(s): {sorted(set(document) - {'steps'})}")
    steps = document["steps"]
    if len(steps) > MAX_STEPS:
        raise InvalidPipeline(f"a pipeline has at most {MAX_STEPS} steps")
    specs = [_parse_step(name, body, set(reserved)) for name, body in steps.items()]
    _check_uses(specs, known=set(steps) | set(reserved))
    return specs


def plan(document: Any) -> list[StepSpec]:
    """The steps a job runs for a document: the probe, then the document's steps."""
    return [probe_step(), *parse_steps(document)]


def _parse_step(name: Any, body: Any, reserved: set[str]) -> StepSpec:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidPipeline(f"step name {name!r} must be 1-64 characters of a-z, 0-9, '_' or '-'")
    if name in reserved:
        raise InvalidPipeline(f"step {name!r}: the name is reserved", step=name)
    if not isinstance(body, Mapping):
        raise InvalidPipeline(f"step {name!r} must be an object", step=name)
    fields = dict(body)
    op_name, use = fields.pop("op", None), fields.pop("use", None)
    if not isinstance(op_name, str):
        raise InvalidPipeline(f'step {name!r} has no "op"', step=name)
    if not isinstance(use, str):
        raise InvalidPipeline(f'step {name!r} has no "use"', step=name)
    try:
        op = get_op(op_name)
    except KeyError:
        raise InvalidPipeline(f"step {name!r}: unknown op {op_name!r}", step=name) from None
    if op_name == PROBE_OP:
        raise InvalidPipeline(f"step {name!r}: the probe runs by itself", step=name)
    try:
        params = op.params.model_validate(fields)
    except ValidationError as exc:
        raise InvalidPipeline(f"step {name!r}: {_first_error(exc)}", step=name) from None
    return StepSpec(
        name=name, op=op_name, use=use, params=params.model_dump(), queue=op.queue.value
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "parameters"
    if err["type"] == "extra_forbidden":
        return f"unknown parameter {where!r}"
    return f"{where}: {err['msg']}"


def _check_uses(specs: list[StepSpec], *, known: set[str]) -> None:
    by_name = {s.name: s for s in specs}
    for spec in specs:
        if spec.use != ORIGINAL and spec.use not in known:
            raise InvalidPipeline(
                f"step {spec.name!r} uses {spec.use!r}, which is not a step", step=spec.name
            )
    for spec in specs:
        seen = {spec.name}
        current = spec
        while current.use in by_name:
            current = by_name[current.use]
            if current.name in seen:
                raise InvalidPipeline(
                    f"step {spec.name!r} is part of a cycle through 'use'", step=spec.name
                )
            seen.add(current.name)


class _Node(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def use(self) -> str: ...


def dependency(node: _Node) -> str | None:
    """The step that must succeed before ``node`` runs: its ``use``, or the probe."""
    if node.name == PROBE:
        return None
    return PROBE if node.use == ORIGINAL else node.use


def ready(nodes: Iterable[_Node], statuses: Mapping[str, StepStatus]) -> list[str]:
    """Names of pending steps whose input step has succeeded."""
    return [
        node.name
        for node in nodes
        if statuses.get(node.name) == StepStatus.PENDING
        and (
            dependency(node) is None or statuses.get(dependency(node) or "") == StepStatus.SUCCEEDED
        )
    ]


NEEDS: dict[str, frozenset[MediaKind]] = {
    "image.thumbnail": frozenset({MediaKind.IMAGE}),
    "video.poster": frozenset({MediaKind.VIDEO}),
    "video.transcode": frozenset({MediaKind.VIDEO}),
    "audio.transcode": frozenset({MediaKind.AUDIO, MediaKind.VIDEO}),
}


def check_kind(nodes: Iterable[_Node], kind: MediaKind) -> None:
    """Refuse steps that read the original but cannot take media of ``kind``."""
    for node in nodes:
        allowed = NEEDS.get(node.op)
        if node.use == ORIGINAL and allowed is not None and kind not in allowed:
            raise UnsupportedMedia(
                f"step {node.name!r} ({node.op}) cannot take {kind.value} files",
                step=node.name,
            )
