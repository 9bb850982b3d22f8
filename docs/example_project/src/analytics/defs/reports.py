"""The team's own asset, downstream of a synced stream."""

import os
from pathlib import Path

import dagster as dg
import duckdb

# Which integration's accounts (its embedded output is JSON Lines under INTEGRATIONS_HOME).
INTEGRATION = os.environ.get("ANALYTICS_CRM_INTEGRATION", "demo_salesforce")
ACCOUNTS = dg.AssetKey(["raw", INTEGRATION, "Account"])


@dg.asset(deps=[ACCOUNTS], group_name="reports", kinds={"duckdb"})
def accounts_changed_per_day() -> dg.MaterializeResult:
    """How many accounts changed each day, from the synced Account stream."""
    home = Path(os.environ.get("INTEGRATIONS_HOME", ".integrations"))
    path = home / "output" / INTEGRATION / "Account.jsonl"
    rows = duckdb.sql(
        "SELECT CAST(SystemModstamp AS DATE) AS day, count(*) AS accounts "
        f"FROM '{path}' GROUP BY day ORDER BY day"
    ).fetchall()
    return dg.MaterializeResult(
        metadata={
            "days": len(rows),
            "accounts": sum(count for _, count in rows),
            "per_day": dg.MetadataValue.json({str(day): n for day, n in rows}),
        }
    )
