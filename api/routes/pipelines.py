"""``/v1/pipelines``: the presets and their documents."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import TenantDep
from pipeline import presets

router = APIRouter(prefix="/v1/pipelines", tags=["pipelines"])


@router.get("")
def list_pipelines(_tenant: TenantDep) -> dict[str, list[dict[str, Any]]]:
    return {"items": presets.describe()}
