"""The config store and the encryption keys (against every stored row)."""

from integrations_platform.databases import redacted
from integrations_platform.doctor.report import Check
from integrations_platform.doctor.support import (
    MIGRATE,
    DoctorState,
    _engine,
    _url_source,
)
from integrations_platform.settings import (
    ENV_DATABASE_URL,
    ENV_ENCRYPTION_KEYS,
)


class StoreChecks(DoctorState):
    """The config store and the encryption keys (against every stored row)."""

    # -- config store

    def config_store(self) -> Check:
        name = "config store"
        url = self.settings.database_url
        source = _url_source(self.given, ENV_DATABASE_URL)
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from alembic.script.revision import ResolutionError
        from alembic.util import CommandError

        from integrations_platform.store import ConfigStore
        from integrations_platform.store.repository import MIGRATIONS_DIR

        script = ScriptDirectory(str(MIGRATIONS_DIR))
        head = script.get_current_head()
        current = self.read_database(
            name, url, source, lambda c: MigrationContext.configure(c).get_current_revision()
        )
        if isinstance(current, Check):
            return current
        if current is None:
            return Check(name, "fail", f"{redacted(url)}: no tables yet (not migrated)", MIGRATE)
        if current != head:
            try:
                script.get_revision(current)
            except (CommandError, ResolutionError):
                return Check(
                    name,
                    "fail",
                    f"{redacted(url)}: at revision {current}, which this release does not "
                    "know (a newer release migrated it)",
                    "Run the release the database was migrated with, or upgrade this one.",
                )
            return Check(
                name,
                "fail",
                f"{redacted(url)}: at revision {current}, this release needs {head}",
                MIGRATE,
            )
        from integrations_platform.store.destinations import list_destinations

        engine = _engine(url, self.timeout_s)
        try:
            store = ConfigStore(engine)
            self.stored = store.list_all()
            self.stored_destinations = tuple(list_destinations(store))
        finally:
            engine.dispose()
        return Check(
            name,
            "ok",
            f"{redacted(url)}: migrated (revision {head}), "
            f"{len(self.stored)} integration(s) stored",
        )

    # -- keys

    def encryption_keys(self) -> Check:
        from integrations_platform.destinations import open_config
        from integrations_platform.errors import DecryptionError, EncryptionKeyError
        from integrations_platform.store import KeyRing

        name = "encryption keys"
        key_file = self.settings.key_file
        raw = self.environ.get(ENV_ENCRYPTION_KEYS, "").strip()
        if raw:
            source = ENV_ENCRYPTION_KEYS
        elif key_file.is_file():
            source = f"the key file {key_file}"
        else:
            saved = f" ({len(self.stored)} integration(s) are stored)" if self.stored else ""
            return Check(
                name,
                "fail",
                f"no key: {ENV_ENCRYPTION_KEYS} is not set and there is no key file at "
                f"{key_file}{saved}",
                f"Set {ENV_ENCRYPTION_KEYS} to the key(s) the configs were saved with "
                "(a new deployment: create one with `integrations keygen`).",
            )
        try:
            keyring = KeyRing.from_settings(self.environ, key_file)
        except EncryptionKeyError as exc:
            return Check(name, "fail", f"{exc.reason} (from {source})", exc.instruction)
        count = len([k for k in (raw or key_file.read_text("ascii")).split(",") if k.strip()])
        keys = f"{count} well-formed key(s) from {source}"
        if self.stored is None:
            return Check(
                name,
                "warn",
                f"{keys}; the stored configs were not checked (the config store is not ready)",
                "Fix the config store first.",
            )
        wrong_key: list[str] = []
        copied: list[str] = []
        old_key: list[str] = []
        for stored in self.stored:
            token = stored.sealed.ciphertext if stored.sealed else b""
            try:
                keyring.decrypt_integration(stored)
            except DecryptionError:
                try:
                    keyring.rotate(token)
                except DecryptionError:
                    wrong_key.append(stored.name)
                else:
                    copied.append(stored.name)
                continue
            if not keyring.is_primary(token):
                old_key.append(stored.name)
        for destination in self.stored_destinations:
            label = f"destination {destination.name}"
            try:
                open_config(keyring, destination)
            except DecryptionError:
                wrong_key.append(label)
                continue
            if not keyring.is_primary(destination.sealed.ciphertext):
                old_key.append(label)
        total = len(self.stored)
        if wrong_key or copied:
            found: list[str] = []
            fixes: list[str] = []
            if wrong_key:
                needed = sorted(
                    {
                        s.sealed.key_fingerprint or ""
                        for s in self.stored
                        if s.name in wrong_key and s.sealed
                    }
                    - {"", *keyring.fingerprints}
                )
                saved_with = f" (saved with key {', '.join(needed)})" if needed else ""
                found.append(
                    f"{len(wrong_key)} of {total} stored integration(s) cannot be decrypted "
                    f"with the {keys}: {', '.join(wrong_key)}{saved_with}"
                )
                fixes.append(
                    f"Put the key they were saved with after the current one "
                    f"({ENV_ENCRYPTION_KEYS}=<current key>,<old key>) and run "
                    "`integrations rotate-keys`; or repair each by entering its complete "
                    "config again: `integrations update NAME --config FILE`."
                )
            if copied:
                found.append(
                    f"the stored config of {', '.join(copied)} belongs to another integration "
                    "(copied between rows)"
                )
                fixes.append("Re-enter their config with `integrations update NAME --config FILE`.")
            return Check(name, "fail", "; ".join(found), " ".join(fixes))
        if old_key:
            return Check(
                name,
                "warn",
                f"{keys}; all {total} stored integration(s) decrypt, but {len(old_key)} still "
                f"use an older key: {', '.join(old_key)}",
                "Run `integrations rotate-keys` (re-encrypts with the first key), then the old "
                "key can be dropped.",
            )
        if not total:
            return Check(name, "ok", f"{keys}; no integration stored yet")
        return Check(name, "ok", f"{keys}; all {total} stored integration(s) decrypt")
