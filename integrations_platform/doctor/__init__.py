"""``integrations doctor``: check a deployment's configuration and say what to fix.

One result per check: ``ok``, ``warn`` or ``fail``, what was found, and the exact fix.
The checks only read: nothing is created, migrated or written (the fix for most
problems is ``integrations migrate``, which does that). Every connection is bounded by a
short timeout, so the doctor answers even when a server is down or unreachable.

What is checked, in order: the settings, the config store, the encryption keys
(against every stored integration), the vault (when secrets are kept in one), Meltano's
system database, the Meltano plugins, the connector catalog, DAGSTER_HOME's
``dagster.yaml`` against the settings, Dagster's storage, the run queue's pool limits,
the run launcher's variables, and the Dagster webserver. A check that needs an earlier
one which failed says "not checked" (a warning). Passwords in URLs are never printed,
nor any key, vault credential or stored value.

An unreachable Dagster webserver is a failure, not a warning: the API and the CLI's
``sync`` need it, so a deployment without it is not working. Run the doctor where the
deployment's variables are set (in the compose recipe: ``docker compose exec api
integrations doctor``).
"""

import os
import sys
from collections.abc import Callable, Mapping

import click

from integrations_platform.doctor.dagster import DagsterChecks
from integrations_platform.doctor.plugins import PluginChecks
from integrations_platform.doctor.report import Check, DoctorReport, Status
from integrations_platform.doctor.stores import StoreChecks
from integrations_platform.doctor.support import DEFAULT_TIMEOUT_S, _first_line, _scrubber
from integrations_platform.doctor.vault import VaultChecks
from integrations_platform.errors import PlatformError
from integrations_platform.settings import Settings

__all__ = ["Check", "DoctorReport", "Status", "doctor_command", "run_doctor"]


def run_doctor(environ: Mapping[str, str], *, timeout_s: float = DEFAULT_TIMEOUT_S) -> DoctorReport:
    """Run every check against the deployment ``environ`` describes.

    >>> report = run_doctor(os.environ)  # doctest: +SKIP
    >>> [c.name for c in report.checks if c.status == "fail"]  # doctest: +SKIP
    ['dagster webserver']
    """
    env = dict(environ)
    try:
        settings = Settings.from_env(env)
    except PlatformError as exc:
        return DoctorReport((Check("settings", "fail", exc.reason, exc.instruction),))
    # The URLs the settings derive (INTEGRATIONS_POSTGRES_URL → Dagster, Meltano), as
    # `integrations exec` exports them to the processes that read them by name.
    from integrations_platform.deployment import export_derived

    export_derived(settings, env)
    doctor = _Doctor(settings, env, dict(environ), timeout_s)
    checks = doctor.run()
    scrub = _scrubber(settings, env)
    return DoctorReport(
        tuple(Check(c.name, c.status, scrub(c.found), scrub(c.fix)) for c in checks)
    )


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--timeout",
    "timeout_s",
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    type=click.FloatRange(0.5, 60),
    help="Seconds each connection may take.",
)
def doctor_command(as_json: bool, timeout_s: float) -> None:
    """Check the configuration (databases, keys, plugins, Dagster) and say what to fix.

    Exit 1 when a check fails; warnings alone exit 0.
    """
    import json

    report = run_doctor(os.environ, timeout_s=timeout_s)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for check in report.checks:
            click.echo(check.format())
        click.echo(
            f"{len(report.checks)} checks: {report.count('ok')} ok, "
            f"{report.count('warn')} warning(s), {report.count('fail')} failed."
        )
    sys.exit(0 if report.ok else 1)


class _Doctor(StoreChecks, VaultChecks, PluginChecks, DagsterChecks):
    """Every check, in order."""

    def run(self) -> list[Check]:
        steps: list[tuple[str, Callable[[], Check]]] = [
            ("config store", self.config_store),
            ("encryption keys", self.encryption_keys),
            ("secrets backend", self.secrets_backend),
            ("meltano state", self.meltano_state),
            ("connector catalog", self.connector_catalog),
            ("meltano plugins", self.meltano_plugins),
            ("dagster.yaml", self.dagster_home),
            ("dagster storage", self.dagster_storage),
            ("run queue", self.run_queue),
            ("run launcher", self.run_launcher),
            ("dagster webserver", self.dagster_webserver),
        ]
        try:
            for name, step in steps:
                try:
                    check = step()
                except PlatformError as exc:
                    check = Check(name, "fail", exc.reason, exc.instruction)
                except Exception as exc:  # a check must report, never crash the doctor
                    check = Check(
                        name,
                        "fail",
                        f"the check itself failed: {type(exc).__name__}: {_first_line(exc)}",
                        "Fix the problems reported above, then run `integrations doctor` again.",
                    )
                if check.name:  # an empty name: not applicable here
                    self.checks.append(check)
        finally:
            if self.instance is not None:
                self.instance.dispose()
        return self.checks
