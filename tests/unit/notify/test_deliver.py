"""Deliveries through the core on SQLite, with a sender that answers as scripted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.db.deliveries import DeliveryStatus, DeliveryStore
from pipeline.db.repository import JobStore
from pipeline.ids import new_id
from pipeline.jobs import JobStatus, Source
from pipeline.notify.deliver import Notifier, SendResult, deliver, hand_out_due
from tests.factories import new_job


class ScriptedSender:
    def __init__(self, *results: SendResult) -> None:
        self.results = list(results)
        self.calls: list[tuple[str, dict, list[str]]] = []

    def send(self, delivery, payload, secrets):
        self.calls.append((delivery.id, payload, list(secrets)))
        return self.results.pop(0)


OK = SendResult(delivered=True, status=200)
DOWN = SendResult(delivered=False, status=500, error="server error")


@pytest.fixture
def store(tmp_path):
    store = JobStore.from_url(f"sqlite:///{tmp_path}/jobs.db")
    store.upgrade()
    return store


def notifier(store, sender, schedule=(0, 0)):
    return Notifier(
        deliveries=DeliveryStore(store.engine),
        store=store,
        senders={"webhook": sender},
        schedule=schedule,
        public_url="http://pony.test",
    )


def ended_job(store, status=JobStatus.SUCCEEDED):
    tenant = store.create_tenant(new_id("t")).tenant
    source = Source(filename="a.png", size=1, content_type="image/png", sha256="x", key="k")
    job = store.create_job(
        new_job(
            tenant,
            source=source,
            metadata={"order": 1},
            webhook_url="https://hooks.example.com/pony",
        )
    )
    assert store.finish_job(job.id, status)
    return job


def run_due(note):
    claimed = []
    hand_out_due(note, claimed.append)
    for delivery_id in claimed:
        deliver(note, delivery_id)
    return claimed


def test_an_ended_job_is_delivered_once_with_the_job_as_data(store):
    job = ended_job(store)
    sender = ScriptedSender(OK)
    note = notifier(store, sender)
    (delivery_id,) = run_due(note)
    _, payload, secrets = sender.calls[0]
    assert payload["type"] == "job.succeeded" and payload["data"]["id"] == job.id
    assert payload["data"]["metadata"] == {"order": 1}
    assert secrets == store.webhook_secrets(job.tenant_id)
    assert note.deliveries.get(delivery_id).status == DeliveryStatus.DELIVERED
    assert run_due(note) == []


def test_a_failing_receiver_is_retried_with_the_same_id_and_body_until_the_schedule_ends(store):
    ended_job(store, JobStatus.FAILED)
    sender = ScriptedSender(DOWN, DOWN, DOWN)
    note = notifier(store, sender, schedule=(0, 0))
    for _ in range(4):
        run_due(note)
    ids = {call[0] for call in sender.calls}
    bodies = {str(call[1]) for call in sender.calls}
    assert len(sender.calls) == 3 and len(ids) == 1 and len(bodies) == 1
    ((delivery, attempts),) = note.deliveries.for_job(sender.calls[0][1]["data"]["id"])
    assert delivery.status == DeliveryStatus.FAILED
    assert [a.status for a in attempts] == [500, 500, 500]


def test_gone_stops_at_once(store):
    ended_job(store)
    sender = ScriptedSender(SendResult(delivered=False, status=410, give_up=True))
    note = notifier(store, sender, schedule=(0, 0, 0))
    (delivery_id,) = run_due(note)
    assert run_due(note) == []
    assert note.deliveries.get(delivery_id).status == DeliveryStatus.FAILED


def test_a_worker_that_died_mid_delivery_leaves_it_to_be_sent_again_under_the_same_id(store):
    ended_job(store)
    note = notifier(store, ScriptedSender(OK))
    start = datetime.now(UTC)
    (lost,) = note.deliveries.claim_due(now=start, lease=timedelta(minutes=2))
    assert (
        note.deliveries.claim_due(now=start + timedelta(minutes=1), lease=timedelta(minutes=2))
        == []
    )
    again = note.deliveries.claim_due(now=start + timedelta(minutes=3), lease=timedelta(minutes=2))
    assert again == [lost]
