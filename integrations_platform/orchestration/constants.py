"""Names shared by the definitions and the run-time resource."""

# Reconstruction metadata key under which the code server pins the integrations it
# loaded, so that run workers build the same definitions without querying the store.
RECONSTRUCTION_KEY = "integrations_platform/integrations"

# Namespaced asset metadata keys read at run time.
META_INTEGRATION = "integrations/integration"
META_STREAM = "integrations/stream"
META_CONNECTOR = "integrations/connector"

# Dagster's implicit job over every asset, which its Materialize button runs; the
# platform's schedules and launches run it on one integration's assets.
ASSET_JOB = "__ASSET_JOB"

INTEGRATION_TAG = "integration"
CONNECTOR_TAG = "integrations/connector"
MELTANO_RESOURCE_KEY = "meltano"
