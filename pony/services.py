"""Assemble the API's services and the worker processes from settings."""

from __future__ import annotations

from dramatiq import Worker

from api.deps import Services
from pipeline.db.repository import JobStore
from pipeline.settings import Settings, load_settings
from pony import wiring
from workers.actors import Steps
from workers.pool import serve_forever, start_worker


def api_services(settings: Settings, *, steps: Steps | None = None) -> Services:
    steps = steps or wiring.make_steps(settings)
    feed = wiring.make_feed(settings)
    runtime = wiring.make_runtime(settings, steps, feed=feed)
    open_tenant = None if settings.auth else _dev_tenant(runtime.store)
    return Services(
        settings=settings,
        store=runtime.store,
        objects=runtime.objects,
        runtime=runtime,
        broker_ping=lambda: wiring.broker_ping(steps),
        open_tenant=open_tenant,
        feed=feed,
    )


def dev_services(settings: Settings, *, threads: int) -> tuple[Services, Worker]:
    """The API's services plus in-process worker threads on the same (in-memory) broker."""
    steps = wiring.make_steps(settings)
    services = api_services(settings, steps=steps)
    wiring.start_tickers(steps, settings)
    return services, start_worker(steps.broker, queues=("light", "heavy"), threads=threads)


def worker_process(queues: tuple[str, ...], threads: int) -> None:
    """One worker process: settings, broker, runtime, then consume until told to stop."""
    settings = load_settings()
    steps = wiring.make_steps(settings)
    wiring.make_runtime(settings, steps)
    tickers = wiring.start_tickers(steps, settings)
    try:
        serve_forever(start_worker(steps.broker, queues=queues, threads=threads))
    finally:
        for ticker in tickers:
            ticker.stop()


def _dev_tenant(store: JobStore) -> str:
    existing = store.tenant_named(wiring.DEV_TENANT)
    return existing or store.create_tenant(wiring.DEV_TENANT).tenant
