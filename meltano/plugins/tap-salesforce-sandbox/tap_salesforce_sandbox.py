"""Launch tap-salesforce with its hard-coded login URL pointed at a local sandbox.

``INTEGRATIONS_SALESFORCE_LOGIN_URL`` (e.g. ``http://127.0.0.1:8765``) replaces the
``https://login.salesforce.com`` / ``https://test.salesforce.com`` prefix of the OAuth
request; every other request already goes to the ``instance_url`` the login returns.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

ENV_VAR = "INTEGRATIONS_SALESFORCE_LOGIN_URL"
LOGIN_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")


def rewrite_login_url(url: str, base_url: str) -> str:
    """Swap a Salesforce login host prefix for `base_url`; leave any other URL alone."""
    for prefix in LOGIN_HOSTS:
        # Require a path boundary so e.g. https://login.salesforce.com.example is untouched.
        if url == prefix or url.startswith(prefix + "/"):
            return base_url + url[len(prefix) :]
    return url


def patch_login_url(base_url: str) -> None:
    """Wrap ``Salesforce._make_request`` so login requests go to `base_url`."""
    from tap_salesforce.salesforce import Salesforce

    original = Salesforce._make_request

    @functools.wraps(original)
    def _make_request(
        self: Salesforce, http_method: str, url: str, *args: Any, **kwargs: Any
    ) -> Any:
        return original(self, http_method, rewrite_login_url(url, base_url), *args, **kwargs)

    Salesforce._make_request = _make_request


def main() -> None:
    """Console script entry point: patch, then hand over to ``tap_salesforce.main``."""
    base_url = os.environ.get(ENV_VAR, "").strip().rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        problem = f"is not an http(s) URL: {base_url!r}" if base_url else "is not set"
        print(
            f"tap-salesforce-sandbox: {ENV_VAR} {problem}; set it to the sandbox base URL, "
            "e.g. http://127.0.0.1:8765",
            file=sys.stderr,
        )
        sys.exit(2)
    patch_login_url(base_url)
    import tap_salesforce

    tap_salesforce.main()


if __name__ == "__main__":
    main()
