"""The wizard page: a marketplace, a setup wizard and the installed integrations.

Static HTML, CSS and JavaScript modules served by the config API (no build step); every
data call goes to ``/api/v1`` with the user's bearer token.
"""

from integrations_platform.web.routes import STATIC_DIR, router

__all__ = ["STATIC_DIR", "router"]
