"""People: user accounts, roles, API tokens, sessions, sign-in links and the audit trail.

The policy of who may do what lives here (:mod:`.roles`), beside the service layer, and is
applied to every API route; the CLI acts as the machine's operator (admin), as it holds
the encryption keys anyway.
"""

from integrations_platform.people.accounts import (
    MIN_PASSWORD_LENGTH,
    Accounts,
    Caller,
    IssuedToken,
    SignedIn,
)
from integrations_platform.people.audit import AuditEvent, AuditLog
from integrations_platform.people.roles import ROLES, Role, required_role, role_allows

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "Accounts",
    "AuditEvent",
    "AuditLog",
    "Caller",
    "IssuedToken",
    "Role",
    "SignedIn",
    "required_role",
    "role_allows",
]
