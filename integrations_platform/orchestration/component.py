"""The platform's integrations inside a data team's own Dagster project, as a Component.

In the project's ``defs`` folder, a ``defs.yaml``::

    type: integrations_platform.orchestration.component.IntegrationsComponent
    attributes:
      home: /srv/integrations-platform/.integrations   # the folder `integrations up` uses
      key_prefix: [raw]                                # raw/<integration>/<stream>
      group_name: raw_sources

builds the same assets (one per stream), jobs, schedules and notification sensors as the
bundled code location, from the same store and catalog. The team's own assets depend on a
stream through its key (``deps=[dg.AssetKey(["raw", "crm", "Account"])]``). Connection
strings and keys never go in YAML: the store's URL, the encryption keys and the
warehouse come from the environment (``INTEGRATIONS_DATABASE_URL``,
``INTEGRATIONS_ENCRYPTION_KEYS`` or the key file under ``home``, …), as for the bundled
location. Load the integrations either here or in the bundled location, not both: each
would sync them under its own keys. See docs/component.md and docs/example_project/.
"""

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from integrations_platform.orchestration.definitions import load_definitions, meltano_resource
from integrations_platform.orchestration.translator import RemappedTranslator, load_translator
from integrations_platform.settings import ENV_CATALOG_DIR, ENV_HOME, Settings


class IntegrationsComponent(dg.Component, dg.Model, dg.Resolvable):
    """Every enabled integration of a platform store: assets per stream, a sync job and
    schedule per integration, and the notification sensors."""

    home: str | None = Field(
        default=None,
        description=(
            "The platform's folder (INTEGRATIONS_HOME): its embedded store, key file and "
            "state. Relative to this defs.yaml. Default: the INTEGRATIONS_HOME variable, "
            "else the platform project's .integrations."
        ),
    )
    catalog_dir: str | None = Field(
        default=None,
        description="The connector catalog folder (default: the platform's own catalog).",
    )
    translator: str | None = Field(
        default=None,
        description=(
            "package.module:Name of an IntegrationsTranslator subclass that makes each "
            "stream's asset spec (default: INTEGRATIONS_TRANSLATOR, else keys "
            "[integration, stream])."
        ),
    )
    key_prefix: list[str] = Field(
        default_factory=list,
        description="Put every stream's asset key under this prefix, e.g. [raw].",
    )
    group_name: str | None = Field(
        default=None,
        description="One asset group for every stream (default: a group per integration).",
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The definitions, from the store at ``home`` (pinned for run workers)."""
        home = self._path(context, self.home)
        catalog = self._path(context, self.catalog_dir)
        environ = dict(os.environ)
        if home:
            environ[ENV_HOME] = home
        if catalog:
            environ[ENV_CATALOG_DIR] = catalog
        settings = Settings.from_env(environ)
        translator = RemappedTranslator(
            load_translator(self.translator or settings.translator),
            self.key_prefix,
            self.group_name,
        )
        return load_definitions(
            settings, translator, meltano_resource(home=home, catalog_dir=catalog)
        )

    @staticmethod
    def _path(context: dg.ComponentLoadContext, value: str | None) -> str:
        if not value:
            return ""
        path = Path(os.path.expandvars(os.path.expanduser(value)))
        return str(path if path.is_absolute() else (context.path / path).resolve())
