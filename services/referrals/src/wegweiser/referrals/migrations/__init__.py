"""Referrals's schema migrations, applied at start-up (adding one: the root README, "Schema migrations")."""

from pathlib import Path

from wegweiser.common.migrations import Migrations
from wegweiser.referrals.db import ReferralsTable

MIGRATIONS = Migrations(
    service="referrals", directory=Path(__file__).parent, metadata=ReferralsTable.metadata
)
