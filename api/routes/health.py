"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import ServicesDep
from api.errors import problem

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(services: ServicesDep) -> JSONResponse:
    checks = {
        "database": services.store.ping,
        "broker": services.broker_ping,
        "storage": services.objects.ping,
    }
    failed = [name for name, check in checks.items() if not _passes(check)]
    if failed:
        return problem(503, "not_ready", f"not reachable: {', '.join(failed)}", failed=failed)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(services: ServicesDep) -> str:
    lines = ["# HELP pony_jobs Jobs in the store by status.", "# TYPE pony_jobs gauge"]
    for status, count in sorted(services.store.count_by_status().items()):
        lines.append(f'pony_jobs{{status="{status}"}} {count}')
    return "\n".join(lines) + "\n"


def _passes(check: object) -> bool:
    try:
        check()  # type: ignore[operator]
    except Exception:
        return False
    return True
