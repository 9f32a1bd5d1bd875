"""Casework's schema migrations, applied at start-up (adding one: the root README, "Schema migrations")."""

from pathlib import Path

from wegweiser.casework.db import CaseworkTable
from wegweiser.common.migrations import Migrations

MIGRATIONS = Migrations(service="casework", directory=Path(__file__).parent, metadata=CaseworkTable.metadata)
