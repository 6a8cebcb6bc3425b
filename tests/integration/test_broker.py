"""The Dramatiq edge against real RabbitMQ."""

from __future__ import annotations

import pika
import pytest

from pipeline.errors import BrokerUnavailable
from tests.services import free_ports
from workers.actors import Steps
from workers.broker import make_broker

pytestmark = pytest.mark.integration


def test_an_unreachable_rabbitmq_is_reported_as_broker_unavailable():
    (port,) = free_ports(1)
    steps = Steps(make_broker(f"amqp://guest:guest@127.0.0.1:{port}/%2F"), max_retries=1,
                  time_limit_ms=1000)  # fmt: skip
    with pytest.raises(BrokerUnavailable):
        steps.send("job_x", "probe", queue="light")


def test_step_messages_are_persistent_on_durable_queues(amqp_url):
    steps = Steps(make_broker(amqp_url), max_retries=1, time_limit_ms=1000)
    steps.send("job_x", "probe", queue="light")
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        queue = channel.queue_declare("light", passive=True)
        assert queue.method.message_count >= 1
        method, properties, body = channel.basic_get("light", auto_ack=False)
        assert properties.delivery_mode == 2
        assert b"job_x" in body and b"probe" in body
        channel.basic_nack(method.delivery_tag, requeue=False)
    finally:
        connection.close()
        steps.broker.close()
