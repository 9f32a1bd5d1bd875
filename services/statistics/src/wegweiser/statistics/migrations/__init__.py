"""Statistics' schema migrations, applied at start-up (adding one: the root README, "Schema migrations")."""

from pathlib import Path

from wegweiser.common.migrations import Migrations
from wegweiser.statistics.db import StatisticsTable
from wegweiser.statistics.projection.tables import is_generation_table

# The generation tables (stat_g<N>_*) stay outside migrations: each rebuild creates a new set at run
# time and a retired one is dropped, so no revision could name them (projection/tables.py).
MIGRATIONS = Migrations(
    service="statistics",
    directory=Path(__file__).parent,
    metadata=StatisticsTable.metadata,
    runtime_table=is_generation_table,
)
