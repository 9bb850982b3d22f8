"""The ``integrations`` command: manage integrations from a terminal.

Every command goes through :class:`IntegrationService`, the same layer as the API.
Exit status: 0 on success, 1 with a one-line ``error:`` message on bad input. One module
per group of commands: integrations, destinations, keys, syncs and state, deployment, notifications,
schema changes, secrets, people (users, tokens, audit).
"""

import click

from integrations_platform.cli import (
    catalog,
    deployment,
    destinations,
    discovery,
    integrations,
    keys,
    notifications,
    page,
    people,
    schema,
    secrets,
    syncs,
)
from integrations_platform.doctor import doctor_command

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Manage the platform's integrations: connectors, configs, keys and syncs."""


for _command in (
    catalog.catalog_group,
    integrations.add,
    integrations.list_cmd,
    integrations.show,
    integrations.update,
    integrations.remove,
    integrations.enable,
    integrations.disable,
    destinations.destinations_cmd,
    keys.keygen,
    keys.key_fingerprints,
    keys.rotate_keys,
    secrets.migrate_secrets,
    deployment.meltano_yml,
    deployment.dagster_yaml,
    deployment.migrate,
    deployment.exec_command,
    deployment.api,
    deployment.up,
    syncs.test_cmd,
    discovery.discover,
    schema.schema_cmd,
    syncs.sync,
    syncs.state,
    syncs.reset,
    notifications.notifications_cmd,
    page.page_cmd,
    doctor_command,
    people.users_cmd,
    people.tokens_cmd,
    people.audit_cmd,
):
    main.add_command(_command)

# Every command that changes something is recorded in the audit trail (source "cli").
people.audit_commands(main)
