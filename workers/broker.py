"""Build the Dramatiq broker from ``PONY_BROKER_URL``."""

from __future__ import annotations

from dramatiq import Broker
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage


def make_broker(url: str) -> Broker:
    """``memory://`` is the in-process broker of ``pony dev``; ``amqp://`` is RabbitMQ, with
    publisher confirms, durable queues and persistent messages."""
    broker: Broker
    if url.startswith("memory://"):
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("amqp://", "amqps://")):
        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    else:
        raise ValueError("PONY_BROKER_URL must be amqp://... or memory://")
    broker.add_middleware(CurrentMessage())
    return broker
