"""One place that maps platform errors to HTTP statuses and safe bodies."""

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations_platform.catalog.validation import MAX_CONFIG_BYTES
from integrations_platform.errors import (
    CatalogError,
    ConcurrentUpdateError,
    ConfigurationError,
    ConnectorNotFoundError,
    CsrfError,
    DecryptionError,
    DestinationInUseError,
    EncryptionKeyError,
    Forbidden,
    IntegrationExistsError,
    IntegrationNotFoundError,
    NotDiscoveredError,
    PlatformError,
    SignInFailed,
    TooManySignIns,
    UserExistsError,
    UserNotFoundError,
)
from integrations_platform.orchestration.client import DagsterUnavailableError
from integrations_platform.runner.redaction import PathScrubber
from integrations_platform.store.vault import SecretsBackendError

logger = logging.getLogger(__name__)

_STATUS: list[tuple[type[PlatformError], int]] = [
    (ConfigurationError, 422),
    (SignInFailed, status.HTTP_401_UNAUTHORIZED),
    (TooManySignIns, status.HTTP_429_TOO_MANY_REQUESTS),
    (Forbidden, status.HTTP_403_FORBIDDEN),
    (CsrfError, status.HTTP_403_FORBIDDEN),
    (UserNotFoundError, status.HTTP_404_NOT_FOUND),
    (UserExistsError, status.HTTP_409_CONFLICT),
    (ConnectorNotFoundError, status.HTTP_404_NOT_FOUND),
    (IntegrationNotFoundError, status.HTTP_404_NOT_FOUND),
    (NotDiscoveredError, status.HTTP_404_NOT_FOUND),
    (IntegrationExistsError, status.HTTP_409_CONFLICT),
    (ConcurrentUpdateError, status.HTTP_409_CONFLICT),
    (DestinationInUseError, status.HTTP_409_CONFLICT),
    (DecryptionError, status.HTTP_409_CONFLICT),
    (EncryptionKeyError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (DagsterUnavailableError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (SecretsBackendError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (CatalogError, status.HTTP_500_INTERNAL_SERVER_ERROR),
]


def _scrub(request: Request) -> Callable[[str], str]:
    """Hides the server's folders from a message (the app's, else the system's)."""
    platform = getattr(request.app.state, "platform", None)
    paths = platform.paths if platform is not None else PathScrubber()
    return paths.scrub


def _platform_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlatformError)
    code = next((c for t, c in _STATUS if isinstance(exc, t)), status.HTTP_400_BAD_REQUEST)
    scrub = _scrub(request)
    body = {
        "error": type(exc).__name__,
        "detail": scrub(exc.reason),
        "instruction": scrub(exc.instruction),
        "field_errors": getattr(exc, "field_errors", {}),
    }
    return JSONResponse(body, status_code=code, headers=getattr(exc, "headers", None))


def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    # A bug, not an input: logged in full on the server, never shown to the client.
    logger.error("Unexpected error", exc_info=exc)
    return JSONResponse(
        {
            "error": "InternalError",
            "detail": "The server could not complete this request",
            "instruction": "Try again; if it keeps failing, look at the server's log.",
            "field_errors": {},
        },
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


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
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)


MAX_BODY_BYTES = MAX_CONFIG_BYTES


class BodySizeLimit:
    """Refuses request bodies over ``max_bytes`` with 413, before the app parses them.

    Checks the declared ``Content-Length``, then reads the body (bounded) and hands it on,
    so that a streamed body without a length is counted too.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {
                "error": "PayloadTooLarge",
                "detail": f"The request body is larger than {self.max_bytes // 1024} KiB",
                "instruction": "Send a smaller request: a config is a few kilobytes at most.",
                "field_errors": {},
            },
            status_code=status.HTTP_413_CONTENT_TOO_LARGE,
        )
        await response(scope, receive, send)
