"""Everything under ``defs/``: the integrations (a Component) and the team's own assets."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """What ``dg`` and ``dagster`` load."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
