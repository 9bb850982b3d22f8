"""The analytics team's Dagster project (an example for the platform's Component)."""
