"""The secrets backend: the vault's reachability and credentials, when one is used."""

from integrations_platform.doctor.report import Check
from integrations_platform.doctor.support import DoctorState
from integrations_platform.store.vault import (
    ENV_SECRETS_BACKEND,
    ENV_VAULT_ADDR,
    FALLBACK_ADDR,
    VaultClient,
    VaultSettings,
    secrets_backend,
)


class VaultChecks(DoctorState):
    """The vault (only where ``INTEGRATIONS_SECRETS_BACKEND=vault`` or one is set up)."""

    def secrets_backend(self) -> Check:
        name = "secrets backend"
        backend = secrets_backend(self.environ)
        if backend != "vault" and not (
            self.environ.get(ENV_VAULT_ADDR) or self.environ.get(FALLBACK_ADDR)
        ):
            return Check("", "ok", "")  # secrets sealed in the config store: nothing to reach
        settings = VaultSettings.from_env(self.environ)
        found = VaultClient(settings, timeout_s=self.timeout_s).check()
        if backend != "vault":
            return Check(
                name,
                "ok",
                f"{found} (new secrets still go to the config store: "
                f"{ENV_SECRETS_BACKEND} is not 'vault')",
            )
        return Check(name, "ok", found)
