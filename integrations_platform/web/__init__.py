"""The page: a marketplace, a setup wizard, the installed integrations and their runs.

A Next.js app (``frontend/``: React, TypeScript, Tailwind CSS, Radix UI, forms from
react-jsonschema-form) exported as static files and served by the config API; every
data call goes to ``/api/v1`` with the user's bearer token.
"""

from integrations_platform.web.build import build_page, export_is_current
from integrations_platform.web.routes import STATIC_DIR, router

__all__ = ["STATIC_DIR", "build_page", "export_is_current", "router"]
