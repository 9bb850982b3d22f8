"""Secrets kept in a real OpenBao server (KV v2): writes, the sync's read, migration both
ways, and what happens when the vault is down, refuses us or lost a path."""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import hvac
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from integrations_platform.cli import main
from integrations_platform.runner.redaction import MASK
from integrations_platform.sandbox.openbao import openbao_dev_server
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store.secrets import RESERVED_KEY, StoredSecret
from integrations_platform.store.vault import SecretsBackendError, VaultClient, VaultSettings
from tests.conftest import START, salesforce_config
from tests.integration.helpers import files_containing, materialize, rows_by_asset
from tests.integration.test_awkward_secrets import spellings

MOUNT = "secret"  # the dev server mounts KV v2 here


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bao:
    """A running OpenBao dev server and a root client on it."""

    def __init__(self, addr: str, root_token: str) -> None:
        self.addr = addr
        self.root_token = root_token
        self.root = hvac.Client(url=addr, token=root_token)

    def data(self, path: str, version: int | None = None) -> dict:
        """The values at ``secret/<path>`` (latest, or ``version``)."""
        response = self.root.secrets.kv.v2.read_secret_version(
            path=path, version=version, mount_point=MOUNT, raise_on_deleted_version=True
        )
        return response["data"]["data"]

    def exists(self, path: str) -> bool:
        try:
            self.root.secrets.kv.v2.read_secret_metadata(path=path, mount_point=MOUNT)
        except hvac.exceptions.InvalidPath:
            return False
        return True


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bao]:
    """One OpenBao dev server for the module (in memory; stopped at the end)."""
    with openbao_dev_server(tmp_path_factory.mktemp("bao")) as (addr, token):
        yield Bao(addr, token)


@pytest.fixture
def vault(bao: Bao, platform, monkeypatch: pytest.MonkeyPatch) -> Bao:  # noqa: ANN001
    """The platform with INTEGRATIONS_SECRETS_BACKEND=vault, token auth, and a prefix of
    its own (tests do not see each other's paths)."""
    for var in ("VAULT_ADDR", "VAULT_TOKEN", "INTEGRATIONS_VAULT_ROLE_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("INTEGRATIONS_VAULT_SECRET_ID", raising=False)
    monkeypatch.setenv("INTEGRATIONS_SECRETS_BACKEND", "vault")
    monkeypatch.setenv("INTEGRATIONS_VAULT_ADDR", bao.addr)
    monkeypatch.setenv("INTEGRATIONS_VAULT_TOKEN", bao.root_token)
    monkeypatch.setenv("INTEGRATIONS_VAULT_PREFIX", f"t-{uuid.uuid4().hex[:8]}/integrations")
    return bao


def _stored(platform, name: str) -> dict:  # noqa: ANN001
    """What the config store holds for ``name``, decrypted (no vault read)."""
    integration = platform.service.get(name)
    return platform.service.keyring.decrypt(integration.id, name, integration.sealed.ciphertext)


def _path(platform, name: str) -> str:  # noqa: ANN001
    return _stored(platform, name)[RESERVED_KEY]["path"]


def _raw_row(platform, name: str) -> tuple:  # noqa: ANN001
    engine = sa.create_engine(platform.settings.database_url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT config_ciphertext, version FROM integrations WHERE name = :n"),
            {"n": name},
        ).one()
    engine.dispose()
    return tuple(row)


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.output


def test_create_edit_rotate_and_remove_keep_secrets_only_in_the_vault(
    platform, sandbox, canary, vault
):
    service = platform.service
    view = service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    assert view.as_dict()["secrets"] == {"client_secret": "set", "refresh_token": "set"}
    integration = service.get("crm")
    stored = _stored(platform, "crm")
    path = stored[RESERVED_KEY]["path"]
    # The store keeps the non-secret settings and the reference, nothing else.
    assert path.endswith(f"/integrations/{integration.id}")
    assert stored["client_id"] == "sandbox-client"
    assert "client_secret" not in stored and "refresh_token" not in stored
    assert canary not in repr(stored)
    assert stored[RESERVED_KEY] == {
        "mount": MOUNT,
        "path": path,
        "version": 1,
        "keys": ["client_secret", "refresh_token"],
    }
    assert vault.data(path) == {"client_secret": canary, "refresh_token": canary}
    # Reads for display never touch the vault: the secrets are placeholders.
    shown = service.stored_config(integration)
    assert isinstance(shown["client_secret"], StoredSecret)
    assert service.show("crm").as_dict()["config"] == {"client_id": "sandbox-client"}

    # An edit without secrets writes nothing to the vault and keeps them.
    service.update("crm", {"client_id": "sandbox-client", "client_secret": ""})
    assert _stored(platform, "crm")[RESERVED_KEY]["version"] == 1
    assert service.decrypted_config(service.get("crm"))["refresh_token"] == canary

    # Rotation: a new value is a new KV version; the omitted secret is kept.
    rotated = f"{canary}-rotated"
    service.update("crm", {"refresh_token": rotated})
    reference = _stored(platform, "crm")[RESERVED_KEY]
    assert reference["version"] == 2 and reference["path"] == path
    assert vault.data(path) == {"client_secret": canary, "refresh_token": rotated}
    assert vault.data(path, version=1)["refresh_token"] == canary  # history kept
    full = service.decrypted_config(service.get("crm"))
    assert (full["client_secret"], full["refresh_token"]) == (canary, rotated)

    # The config database holds neither value, in any form.
    database = Path(platform.settings.database_url.removeprefix("sqlite:///"))
    for value in (canary, rotated):
        for form in spellings(value).values():
            assert files_containing(database.parent, form) == []

    service.remove("crm")
    assert not vault.exists(path)


def test_a_sync_reads_its_secrets_from_the_vault_and_the_canary_appears_nowhere(
    meltano_plugins, platform, sandbox, canary, vault, dagster_home
):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    assert canary not in repr(_stored(platform, "crm"))  # the run can only get it from the vault
    with platform.dagster_instance(dagster_home) as instance:
        result = materialize(platform, "crm", instance)
        assert result.success and sum(rows_by_asset(result).values()) > 0
        records = instance.all_logs(result.run_id)
        serialized = "\n".join(dg.serialize_value(r) for r in records)
        run_config = dg.serialize_value(instance.get_run_by_id(result.run_id).run_config)
    # The tap logs its token request: masked, so the vault's values reached the redactor.
    assert MASK in serialized
    for name, form in spellings(canary).items():
        assert form not in serialized, name
        assert form not in run_config, name
        for root in (dagster_home, platform.home, PROJECT_ROOT / "meltano"):
            assert files_containing(root, form) == [], (name, root)
    assert list((platform.home / "runs").iterdir()) == []


def test_migrate_secrets_moves_every_integration_both_ways(
    platform, sandbox, canary, vault, monkeypatch
):
    monkeypatch.setenv("INTEGRATIONS_SECRETS_BACKEND", "database")
    for name in ("crm", "crm2"):
        platform.service.add("salesforce", name, salesforce_config(sandbox), start_date=START)
        assert _stored(platform, name)["refresh_token"] == canary  # in the store today
    monkeypatch.setenv("INTEGRATIONS_SECRETS_BACKEND", "vault")

    code, output = _cli("migrate-secrets", "--to", "vault")
    assert code == 0, output
    assert "[1/2] crm: moved to the vault" in output
    assert "2 integration(s): 2 moved, 0 already in the vault, 0 failed." in output
    paths = {}
    for name in ("crm", "crm2"):
        stored = _stored(platform, name)
        assert "refresh_token" not in stored and canary not in repr(stored)
        paths[name] = stored[RESERVED_KEY]["path"]
        assert vault.data(paths[name])["refresh_token"] == canary
    # Idempotent: a second run moves nothing.
    code, output = _cli("migrate-secrets", "--to", "vault")
    assert code == 0 and "0 moved, 2 already in the vault" in output, output

    code, output = _cli("migrate-secrets", "--to", "database")
    assert code == 0, output
    assert "2 moved, 0 already in the database, 0 failed." in output
    assert "note: INTEGRATIONS_SECRETS_BACKEND is 'vault'" in output
    for name in ("crm", "crm2"):
        stored = _stored(platform, name)
        assert stored["refresh_token"] == canary and RESERVED_KEY not in stored
        assert not vault.exists(paths[name])  # deleted from the source
    code, output = _cli("migrate-secrets", "--to", "database")
    assert code == 0 and "0 moved, 2 already in the database" in output, output


def test_a_vault_that_is_down_or_refuses_changes_nothing(
    platform, sandbox, canary, vault, monkeypatch
):
    service = platform.service
    service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    path = _path(platform, "crm")
    before = _raw_row(platform, "crm")

    monkeypatch.setenv("INTEGRATIONS_VAULT_ADDR", f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(SecretsBackendError) as down:
        service.update("crm", {"refresh_token": f"{canary}-new"})
    message = str(down.value)
    assert "cannot be reached" in message and "'crm'" in message and path in message
    assert "INTEGRATIONS_VAULT_ADDR" in message and canary not in message
    assert _raw_row(platform, "crm") == before
    with pytest.raises(SecretsBackendError, match="cannot be reached"):
        service.add("salesforce", "crm2", salesforce_config(sandbox), start_date=START)
    assert [v.name for v in service.list_integrations()] == ["crm"]
    with pytest.raises(SecretsBackendError, match="cannot be reached"):
        service.remove("crm")
    # Edits that need no secret do not need the vault either.
    service.update("crm", schedule="0 5 * * *")
    assert service.show("crm").as_dict()["secrets"]["refresh_token"] == "set"
    before = _raw_row(platform, "crm")

    monkeypatch.setenv("INTEGRATIONS_VAULT_ADDR", vault.addr)
    monkeypatch.setenv("INTEGRATIONS_VAULT_TOKEN", f"bad-{uuid.uuid4().hex}")
    with pytest.raises(SecretsBackendError) as refused:
        service.update("crm", {"refresh_token": f"{canary}-new"})
    message = str(refused.value)
    assert "refused" in message and "INTEGRATIONS_VAULT_TOKEN" in message and path in message
    assert _raw_row(platform, "crm") == before
    assert vault.data(path)["refresh_token"] == canary


def test_a_missing_path_is_a_clear_error_naming_the_integration_and_the_path(
    platform, sandbox, vault, dagster_home
):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    path = _path(platform, "crm")
    vault.root.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=MOUNT)
    with pytest.raises(SecretsBackendError) as missing:
        platform.service.test_connection("crm")
    message = str(missing.value)
    assert "integration 'crm'" in message and f"{MOUNT}/{path} (version 1)" in message
    assert "integrations update crm" in message
    # The sync fails before it starts Meltano, with the same message.
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = materialize(platform, "crm", instance, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        text = failure.step_failure_data.error.to_string()
    assert f"{MOUNT}/{path} (version 1)" in text and "'crm'" in text


def test_approle_login(platform, sandbox, canary, bao, vault, monkeypatch):
    root = bao.root
    if "approle/" not in root.sys.list_auth_methods()["data"]:
        root.sys.enable_auth_method("approle")
    prefix = os.environ["INTEGRATIONS_VAULT_PREFIX"]
    root.sys.create_or_update_policy(
        "integrations-api",
        f'path "{MOUNT}/data/{prefix}/*" {{ capabilities = ["create", "update", "read"] }}\n'
        f'path "{MOUNT}/metadata/{prefix}/*" {{ capabilities = ["delete"] }}\n'
        f'path "{MOUNT}/destroy/{prefix}/*" {{ capabilities = ["update"] }}\n',
    )
    root.auth.approle.create_or_update_approle(
        "integrations-api", token_policies=["integrations-api"]
    )
    role_id = root.auth.approle.read_role_id("integrations-api")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("integrations-api")["data"]["secret_id"]
    monkeypatch.delenv("INTEGRATIONS_VAULT_TOKEN")
    monkeypatch.setenv("INTEGRATIONS_VAULT_ROLE_ID", role_id)
    monkeypatch.setenv("INTEGRATIONS_VAULT_SECRET_ID", secret_id)

    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    path = _path(platform, "crm")
    assert bao.data(path)["client_secret"] == canary
    assert platform.service.decrypted_config(platform.service.get("crm"))["client_secret"] == canary

    monkeypatch.setenv("INTEGRATIONS_VAULT_SECRET_ID", str(uuid.uuid4()))
    with pytest.raises(SecretsBackendError) as refused:
        platform.service.update("crm", {"refresh_token": f"{canary}-new"})
    message = str(refused.value)
    assert "AppRole login" in message and "'crm'" in message and path in message
    assert secret_id not in message
    monkeypatch.setenv("INTEGRATIONS_VAULT_SECRET_ID", secret_id)
    platform.service.remove("crm")
    assert not bao.exists(path)


# A sync's read in a fresh process, as a run worker makes it (the resource loaded first).
SYNC_TIME_READ = """
import json, os, sys
import integrations_platform.orchestration.resources
from integrations_platform.settings import Settings
from integrations_platform.store import ConfigStore, KeyRing
from integrations_platform.store.secrets_backend import IntegrationSecrets

settings = Settings.from_env()
store = ConfigStore.open(settings.database_url, migrate=False)
stored = store.get(sys.argv[1])
store.close()
keyring = KeyRing.from_settings(os.environ, settings.key_file)
config = IntegrationSecrets.from_env(keyring, os.environ).full_config(stored)
print(json.dumps({"config": config, "modules": sorted(sys.modules)}))
"""


def test_a_sync_time_read_does_not_import_hvac(platform, sandbox, canary, vault):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    assert canary not in repr(_stored(platform, "crm"))  # only the vault has it
    result = subprocess.run(
        [sys.executable, "-c", SYNC_TIME_READ, "crm"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    config = found["config"]
    assert config["client_id"] == "sandbox-client"
    assert (config["client_secret"], config["refresh_token"]) == (canary, canary)
    assert "hvac" not in found["modules"] and "requests" not in found["modules"]


def _approle_reader(bao: Bao, prefix: str, **role: str) -> VaultSettings:
    """AppRole settings for a role that may read ``secret/<prefix>/*``."""
    root = bao.root
    if "approle/" not in root.sys.list_auth_methods()["data"]:
        root.sys.enable_auth_method("approle")
    root.sys.create_or_update_policy(
        "integrations-reader", f'path "{MOUNT}/data/{prefix}/*" {{ capabilities = ["read"] }}'
    )
    root.auth.approle.create_or_update_approle(
        "integrations-reader", token_policies=["integrations-reader"], **role
    )
    role_id = root.auth.approle.read_role_id("integrations-reader")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("integrations-reader")["data"]["secret_id"]
    return VaultSettings(bao.addr, role_id=role_id, secret_id=secret_id)


def test_the_read_logs_in_again_once_when_the_approle_token_expired(bao, canary):
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    path = f"{prefix}/abc"
    bao.root.secrets.kv.v2.create_or_update_secret(
        path=path, secret={"refresh_token": canary}, mount_point=MOUNT
    )
    settings = _approle_reader(bao, prefix, token_ttl="1s", token_max_ttl="1s")
    client = VaultClient(settings)
    assert client.read("crm", MOUNT, path, 1) == {"refresh_token": canary}
    time.sleep(2.5)  # the login's token has expired: the vault refuses it
    assert client.read("crm", MOUNT, path, 1) == {"refresh_token": canary}


def test_the_sync_time_read_says_what_went_wrong_without_a_secret(bao, canary):
    path = f"t-{uuid.uuid4().hex[:8]}/abc"
    bao.root.secrets.kv.v2.create_or_update_secret(
        path=path, secret={"refresh_token": canary}, mount_point=MOUNT
    )
    cases = {
        "missing version": (
            VaultSettings(bao.addr, token=bao.root_token),
            9,
            f"has nothing at {MOUNT}/{path} (version 9) for the secrets of integration 'crm'",
        ),
        "bad token": (
            VaultSettings(bao.addr, token=f"bad-{uuid.uuid4().hex}"),
            1,
            f"refused to read the secrets of integration 'crm' at {MOUNT}/{path} (version 1)",
        ),
        "vault down": (
            VaultSettings(f"http://127.0.0.1:{_free_port()}", token=bao.root_token),
            1,
            f"cannot be reached to read the secrets of integration 'crm' at {MOUNT}/{path} "
            "(version 1) (ConnectError)",
        ),
        "approle refused": (
            VaultSettings(bao.addr, role_id=str(uuid.uuid4()), secret_id=str(uuid.uuid4())),
            1,
            "refused the AppRole login needed to read the secrets of integration 'crm'",
        ),
    }
    for case, (settings, version, expected) in cases.items():
        with pytest.raises(SecretsBackendError) as failed:
            VaultClient(settings).read("crm", MOUNT, path, version)
        message = str(failed.value)
        assert expected in message, (case, message)
        for value in (canary, bao.root_token, settings.token, settings.secret_id):
            assert not value or value not in message, case
