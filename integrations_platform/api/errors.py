"""One place that maps platform errors to HTTP statuses and safe bodies."""

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from integrations_platform.errors import (
    CatalogError,
    ConcurrentUpdateError,
    ConfigurationError,
    ConnectorNotFoundError,
    DecryptionError,
    EncryptionKeyError,
    IntegrationExistsError,
    IntegrationNotFoundError,
    PlatformError,
)
from integrations_platform.orchestration.client import DagsterUnavailableError

_STATUS: list[tuple[type[PlatformError], int]] = [
    (ConfigurationError, 422),
    (ConnectorNotFoundError, status.HTTP_404_NOT_FOUND),
    (IntegrationNotFoundError, status.HTTP_404_NOT_FOUND),
    (IntegrationExistsError, status.HTTP_409_CONFLICT),
    (ConcurrentUpdateError, status.HTTP_409_CONFLICT),
    (DecryptionError, status.HTTP_409_CONFLICT),
    (EncryptionKeyError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (DagsterUnavailableError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (CatalogError, status.HTTP_500_INTERNAL_SERVER_ERROR),
]


def _platform_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlatformError)
    code = next((c for t, c in _STATUS if isinstance(exc, t)), status.HTTP_400_BAD_REQUEST)
    body = {
        "error": type(exc).__name__,
        "detail": exc.reason,
        "instruction": exc.instruction,
        "field_errors": getattr(exc, "field_errors", {}),
    }
    return JSONResponse(body, status_code=code)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # FastAPI's default body echoes the rejected input, which may be a secret: only
    # the location and the message are returned.
    field_errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        field_errors.setdefault(".".join(loc) or "body", str(error.get("msg", "invalid")))
    return JSONResponse(
        {
            "error": "ValidationError",
            "detail": "The request is invalid: " + ", ".join(sorted(field_errors)),
            "instruction": "Fix the listed fields.",
            "field_errors": field_errors,
        },
        status_code=422,
    )


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        {"error": "HTTPError", "detail": str(exc.detail), "instruction": "", "field_errors": {}},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(PlatformError, _platform_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
