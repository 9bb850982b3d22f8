"""The config API (FastAPI)."""

from integrations_platform.api.app import create_app

__all__ = ["create_app"]
