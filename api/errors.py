"""The one table from errors to HTTP, and RFC 9457 problem documents."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from pipeline import errors as e

log = logging.getLogger("pony.api")

STATUS: dict[type[e.PonyError], int] = {
    e.InputError: 422,
    e.TransientError: 503,
    e.ProcessingError: 500,
    e.Canceled: 409,
    e.NotFound: 404,
    e.Conflict: 409,
    e.Unauthorized: 401,
    e.UploadTooLarge: 413,
}
"""Status by error class; a subclass takes its nearest listed ancestor's."""

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


def status_for(error: e.PonyError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://pony.express/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(e.PonyError, _pony_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


async def _pony_error(_request: Request, exc: e.PonyError) -> JSONResponse:
    extra = {"step": exc.step} if exc.step else {}
    return problem(status_for(exc), exc.code, exc.message, **extra)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "header"))
    detail = (
        f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))
    )
    return problem(422, "invalid_request", detail)


async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 413: "upload_too_large"}.get(
        exc.status_code, "http_error"
    )
    return problem(exc.status_code, code, str(exc.detail))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error", exc_info=exc)
    return problem(500, "internal_error", "an internal error occurred; it has been logged")
