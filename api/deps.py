"""What routes depend on, as types: the services, and the calling tenant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from pipeline.db.repository import JobStore
from pipeline.errors import Unauthorized
from pipeline.execute import Runtime
from pipeline.feed import Feed
from pipeline.settings import Settings
from pipeline.storage import ObjectStore


@dataclass(frozen=True, kw_only=True)
class Services:
    """Everything the API uses, chosen once by the composition root (``pony.wiring``)."""

    settings: Settings
    store: JobStore
    objects: ObjectStore
    runtime: Runtime
    broker_ping: Callable[[], None]
    open_tenant: str | None = None
    """With auth off (``pony dev``), every request acts as this tenant."""
    feed: Feed = field(default_factory=Feed)
    """Wakes event streams when a job changes (the store must announce to the same feed)."""


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_tenant(request: Request, services: ServicesDep) -> str:
    if services.open_tenant is not None:
        return services.open_tenant
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send the tenant's API key as 'Authorization: Bearer <api_key>'")
    tenant = services.store.tenant_for_key(token.strip())
    if tenant is None:
        raise Unauthorized("the API key is not known")
    return tenant


TenantDep = Annotated[str, Depends(get_tenant)]
