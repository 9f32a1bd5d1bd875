"""Intake's schema migrations, applied at start-up (adding one: the root README, "Schema migrations")."""

from pathlib import Path

from wegweiser.common.migrations import Migrations
from wegweiser.intake.db import IntakeTable

MIGRATIONS = Migrations(service="intake", directory=Path(__file__).parent, metadata=IntakeTable.metadata)
