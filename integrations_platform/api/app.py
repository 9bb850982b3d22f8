"""The config API: a FastAPI app over the same service layer as the CLI.

>>> app = create_app(api_token="a-long-random-token")  # doctest: +SKIP
"""

import os
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from integrations_platform.api.audit import AuditTrail
from integrations_platform.api.errors import install_error_handlers
from integrations_platform.api.routes import (
    connectors,
    destinations,
    discovery,
    integrations,
    notifications,
    people,
    schema,
)
from integrations_platform.api.state import DefinitionsReloader, PlatformState
from integrations_platform.errors import PlatformError
from integrations_platform.orchestration.client import DagsterClient
from integrations_platform.service import IntegrationService
from integrations_platform.settings import ENV_API_DEV, ENV_API_TOKEN, Settings
from integrations_platform.web import router as web_router

MIN_TOKEN_LENGTH = 16
RELOAD_RETRY_S = 15.0


def resolve_api_token(environ: Mapping[str, str], dev_mode: bool = False) -> str | None:
    """The token the API requires, or None in explicit development mode.

    Outside development mode a missing or short token is refused, so that the API never
    starts open by accident.
    """
    token = environ.get(ENV_API_TOKEN, "").strip()
    if token:
        if len(token) < MIN_TOKEN_LENGTH:
            raise PlatformError(
                f"{ENV_API_TOKEN} is shorter than {MIN_TOKEN_LENGTH} characters",
                "Use a long random value, e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`.",
            )
        return token
    if dev_mode or environ.get(ENV_API_DEV, "").lower() in ("1", "true", "yes"):
        return None
    raise PlatformError(
        f"{ENV_API_TOKEN} is not set; the API refuses to start without a token",
        f"Set {ENV_API_TOKEN}, or {ENV_API_DEV}=1 for local development without auth.",
    )


def create_app(
    settings: Settings | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    api_token: str | None = None,
    dev_mode: bool = False,
    dagster: DagsterClient | None = None,
) -> FastAPI:
    """Build the API app (nothing is opened until this is called)."""
    env = dict(os.environ if environ is None else environ)
    settings = settings or Settings.from_env(env)
    token = api_token if api_token is not None else resolve_api_token(env, dev_mode)
    client = dagster or DagsterClient(settings.dagster_url)
    service = IntegrationService.from_settings(settings, env, dagster=client)
    store = service.store
    state = PlatformState(
        settings=settings,
        service=service,
        reloader=DefinitionsReloader(client),
        dagster=client,
        api_token=token,
        environ=env,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()

        def retry() -> None:
            while not stop.wait(RELOAD_RETRY_S):
                state.reloader.retry_if_pending()

        thread = threading.Thread(target=retry, name="definitions-reload", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            store.close()

    app = FastAPI(
        title="Integrations Platform API",
        version="1",
        description=(
            "Manage integrations: browse connectors, create, test, sync and watch them. "
            "Secrets are write-only: responses say only whether each is set. "
            "Authenticate with a user's API token (`Authorization: Bearer ipt_…`, from "
            "`integrations tokens create`), the deployment's service token "
            f"(`Authorization: Bearer <{ENV_API_TOKEN}>`, admin), or the page's session "
            "cookie from `POST /api/v1/auth/login` (changes then need `X-CSRF-Token`). "
            "Roles: viewer reads; editor also changes integrations and notifications; "
            "admin also manages users, tokens and reads the audit trail."
        ),
        lifespan=lifespan,
    )
    app.state.platform = state
    install_error_handlers(app)
    app.add_middleware(AuditTrail)
    app.include_router(people.router)
    app.include_router(connectors.router)
    app.include_router(destinations.connectors)
    app.include_router(destinations.router)
    app.include_router(integrations.router)
    app.include_router(discovery.router)
    app.include_router(schema.router)
    app.include_router(notifications.router)
    app.include_router(web_router)  # the wizard page at /

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app
