"""A local, Salesforce-compatible API server so Salesforce taps can run offline."""

from .server import SalesforceSandbox, SandboxCredentials

__all__ = ["SalesforceSandbox", "SandboxCredentials"]
