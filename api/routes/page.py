"""The upload page at ``/``: plain HTML, CSS and JavaScript from ``api/static``, no build step."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from pipeline.errors import NotFound

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
"""The only files served: a name from the URL never becomes a path on its own."""


@router.get("/")
def index() -> FileResponse:
    return static("index.html")


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in FILES:
        raise NotFound(f"no static file {name!r}")
    return FileResponse(
        STATIC / name, media_type=FILES[name], headers={"Cache-Control": "no-cache"}
    )
