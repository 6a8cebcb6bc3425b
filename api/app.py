"""``create_app(services)``: the FastAPI application, with no globals."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.deps import Services
from api.limits import BodyLimit
from api.routes import deliveries, events, health, jobs, page, pipelines

MULTIPART_OVERHEAD = 1024 * 1024


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="Pony Express",
        version="0.1.0",
        description="Self-hosted media processing: upload, probe, thumbnails, transcodes.",
    )
    app.state.services = services
    errors.install(app)
    app.add_middleware(BodyLimit, limit=services.settings.max_upload_bytes + MULTIPART_OVERHEAD)
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(events.router)
    app.include_router(deliveries.router)
    app.include_router(pipelines.router)
    app.include_router(page.router)
    return app
