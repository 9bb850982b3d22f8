"""Notification settings, read from the environment (like :mod:`integrations_platform.settings`)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from integrations_platform.errors import ConfigurationError
from integrations_platform.settings import ENV_DAGSTER_URL

ENV_API_URL = "INTEGRATIONS_API_URL"
ENV_WEBHOOK_URLS = "INTEGRATIONS_WEBHOOK_URLS"
ENV_WEBHOOK_SECRET = "INTEGRATIONS_WEBHOOK_SECRET"
ENV_WEBHOOK_TIMEOUT = "INTEGRATIONS_WEBHOOK_TIMEOUT"
ENV_WEBHOOK_MAX_ATTEMPTS = "INTEGRATIONS_WEBHOOK_MAX_ATTEMPTS"
ENV_STALE_FACTOR = "INTEGRATIONS_STALE_FACTOR"
ENV_AUTO_PAUSE_AFTER = "INTEGRATIONS_AUTO_PAUSE_AFTER"
ENV_SENSOR_INTERVAL = "INTEGRATIONS_NOTIFICATION_INTERVAL"


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(
            f"{name}={raw!r} is not a number", f"Set {name} to a number (at least {minimum:g})."
        ) from None
    if value < minimum:
        raise ConfigurationError(
            f"{name}={raw!r} is below {minimum:g}", f"Set {name} to at least {minimum:g}."
        )
    return value


@dataclass(frozen=True)
class NotificationSettings:
    """Where notifications link to and go, and when they are raised.

    ``stale_factor`` 0 and ``auto_pause_after`` 0 switch those features off
    (auto-pause is off by default).
    """

    dagster_url: str = "http://127.0.0.1:3000"
    api_url: str = "http://127.0.0.1:8000"
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str = ""
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 20
    stale_factor: float = 3.0
    auto_pause_after: int = 0
    sensor_interval_s: int = 30

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "NotificationSettings":
        """Read every ``INTEGRATIONS_*`` notification variable from ``environ``."""
        env = os.environ if environ is None else environ
        urls = tuple(u.strip() for u in env.get(ENV_WEBHOOK_URLS, "").split(",") if u.strip())
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ConfigurationError(
                    f"{ENV_WEBHOOK_URLS} holds {url!r}, which is not an http(s) URL",
                    f"Set {ENV_WEBHOOK_URLS} to comma-separated http:// or https:// URLs.",
                )
        return cls(
            dagster_url=(env.get(ENV_DAGSTER_URL) or "http://127.0.0.1:3000").rstrip("/"),
            api_url=(env.get(ENV_API_URL) or "http://127.0.0.1:8000").rstrip("/"),
            webhook_urls=urls,
            webhook_secret=env.get(ENV_WEBHOOK_SECRET, ""),
            webhook_timeout_s=_number(env, ENV_WEBHOOK_TIMEOUT, 5.0, 0.1),
            webhook_max_attempts=int(_number(env, ENV_WEBHOOK_MAX_ATTEMPTS, 20, 1)),
            stale_factor=_number(env, ENV_STALE_FACTOR, 3.0, 0),
            auto_pause_after=int(_number(env, ENV_AUTO_PAUSE_AFTER, 0, 0)),
            sensor_interval_s=int(_number(env, ENV_SENSOR_INTERVAL, 30, 1)),
        )

    def run_url(self, run_id: str) -> str:
        """Deep link to a run in the Dagster UI."""
        return f"{self.dagster_url}/runs/{run_id}"

    def settings_url(self, integration: str) -> str:
        """Where the integration's settings are edited (the API's wizard page)."""
        return f"{self.api_url}/#/integrations/{integration}"

    def streams_url(self, integration: str, stream: str) -> str:
        """The wizard's streams step of the integration, at ``stream``."""
        return f"{self.settings_url(integration)}?step=streams&stream={quote(stream, safe='')}"

    def schedule_url(self, integration: str) -> str:
        """The integration's schedule in the Dagster UI (where it is turned back on)."""
        return f"{self.dagster_url}/locations/integrations/schedules/{integration}_schedule"
