"""The dispatch seam: "please run step X of job Y" handed to whatever runs steps."""

from __future__ import annotations

from typing import Protocol


class Dispatcher(Protocol):
    def send(self, job_id: str, step: str, *, queue: str) -> None:
        """Hand one step to the workers; raise ``BrokerUnavailable`` if nobody took it."""


class RecordingDispatcher:
    """Keeps what was sent, for tests of the core."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, job_id: str, step: str, *, queue: str) -> None:
        self.sent.append((job_id, step, queue))
