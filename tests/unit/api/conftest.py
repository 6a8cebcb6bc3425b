"""The API in-process, on SQLite and in-memory storage, with a dispatcher passed in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Services
from pipeline.db.repository import JobStore
from pipeline.dispatch import RecordingDispatcher
from pipeline.errors import BrokerUnavailable
from pipeline.execute import Runtime
from pipeline.settings import Settings
from pipeline.storage.memory import MemoryStore


class RefusingDispatcher:
    def send(self, job_id: str, step: str, *, queue: str) -> None:
        raise BrokerUnavailable("the job queue is not reachable; try again shortly")


def make_services(tmp_path, dispatcher, **settings) -> Services:
    values = {"database_url": f"sqlite:///{tmp_path}/api.db", "storage_url": "file:///unused"}
    config = Settings(**{**values, **settings})
    store = JobStore.from_url(config.database_url)
    store.upgrade()
    objects = MemoryStore()
    runtime = Runtime(store=store, objects=objects, dispatcher=dispatcher, limits=config.limits)
    return Services(
        settings=config, store=store, objects=objects, runtime=runtime, broker_ping=lambda: None
    )


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def services(tmp_path, dispatcher) -> Services:
    return make_services(tmp_path, dispatcher)


@pytest.fixture
def keys(services) -> tuple[str, str]:
    return services.store.create_tenant("a").api_key, services.store.create_tenant("b").api_key


@pytest.fixture
def client(services, keys) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {keys[0]}"
        yield test_client
