"""The actors: one step actor per queue, each a thin call into ``pipeline.execute.run_step``,
and ``deliver`` (light queue) for one notification attempt.

Messages carry ids only: ``(job_id, step)``. The message id is the step's run token, so a
redelivery after a worker died resumes the step while a duplicate message skips it.
"""

from __future__ import annotations

import dramatiq
import pika.exceptions
from dramatiq import Broker
from dramatiq.middleware import CurrentMessage, TimeLimitExceeded

from pipeline.errors import BrokerUnavailable, DeadlineExceeded, TransientError
from pipeline.execute import Runtime, fail, run_step
from pipeline.notify.deliver import Notifier, deliver
from pipeline.ops.base import Queue

DELIVER_TIME_LIMIT_MS = 90_000
"""A delivery attempt is bounded by its sender's own timeouts (15 s for webhooks)."""
TIME_LIMIT_MESSAGE = "the step ran past the worker's time limit and was stopped"
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 60_000


class Steps:
    """The step actors bound to one broker, and the ``Dispatcher`` that sends to them."""

    def __init__(self, broker: Broker, *, max_retries: int, time_limit_ms: int) -> None:
        self.broker = broker
        self.max_retries = max_retries
        self.runtime: Runtime | None = None
        self.notifier: Notifier | None = None
        self.deliver_actor = dramatiq.Actor(
            self._deliver,
            broker=broker,
            actor_name="deliver",
            queue_name=Queue.LIGHT.value,
            priority=0,
            options={"max_retries": 0, "time_limit": DELIVER_TIME_LIMIT_MS},
        )
        self.actors = {
            queue.value: dramatiq.Actor(
                self._run,
                broker=broker,
                actor_name=f"run_step_{queue.value}",
                queue_name=queue.value,
                priority=0,
                options={
                    "max_retries": max_retries,
                    "min_backoff": MIN_BACKOFF_MS,
                    "max_backoff": MAX_BACKOFF_MS,
                    "retry_when": self._retry_when,
                    "time_limit": time_limit_ms,
                },
            )
            for queue in Queue
        }

    def send(self, job_id: str, step: str, *, queue: str) -> None:
        try:
            self.actors[queue].send(job_id, step)
        except (dramatiq.errors.BrokerConnectionError, pika.exceptions.AMQPError, OSError) as exc:
            raise BrokerUnavailable("the job queue is not reachable; try again shortly") from exc

    def send_delivery(self, delivery_id: str) -> None:
        try:
            self.deliver_actor.send(delivery_id)
        except (dramatiq.errors.BrokerConnectionError, pika.exceptions.AMQPError, OSError) as exc:
            raise BrokerUnavailable("the job queue is not reachable; try again shortly") from exc

    def _deliver(self, delivery_id: str) -> None:
        if self.notifier is None:
            raise RuntimeError("Steps.notifier is not wired")
        deliver(self.notifier, delivery_id)

    def _retry_when(self, retries: int, exc: BaseException) -> bool:
        return isinstance(exc, TransientError) and retries < self.max_retries

    def _run(self, job_id: str, step: str) -> None:
        if self.runtime is None:
            raise RuntimeError("Steps.runtime is not wired")
        message = CurrentMessage.get_current_message()
        token = message.message_id if message else f"{job_id}:{step}"
        retries = int(message.options.get("retries", 0)) if message else 0
        try:
            run_step(self.runtime, job_id, step, token=token, last_try=retries >= self.max_retries)
        except TimeLimitExceeded:
            # An interrupt, not an Exception: without this the message would be dead-lettered
            # and the step left running forever.
            fail(self.runtime, job_id, step, DeadlineExceeded(TIME_LIMIT_MESSAGE))
