"""Referrals as people run it, for the browser tests: its consumers at the end of their topics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wegweiser.common import topics
from wegweiser.common.events.referrals import partner_feedback_topic
from wegweiser.common.testing.browser import serve
from wegweiser.referrals.seed import EXAMPLES
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import start_group_at_end


@pytest.fixture
async def referrals_env(service_env: dict[str, Any]) -> dict[str, Any]:
    """``service_env`` with referrals' consumers at the end of their topics (no other test's referrals)."""
    settings = ReferralsSettings(**service_env)
    bootstrap = service_env["kafka_bootstrap_servers"]
    await start_group_at_end(
        bootstrap, settings.consumer_group("referrals"), [topics.REFERRAL_REQUESTS.name, topics.CASES.name]
    )
    kafka_partners = [p[0] for p in EXAMPLES if p[3] == "kafka"]
    feedback = [partner_feedback_topic(p).name for p in kafka_partners]
    await start_group_at_end(bootstrap, settings.consumer_group("referrals-feedback"), feedback)
    return service_env


@pytest.fixture
def service(database_url: str, referrals_env: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """referrals as people run it (``python -m wegweiser.referrals``), with the example catalogue."""
    with serve("referrals", database_url, referrals_env, tmp_path / "referrals.log") as url:
        yield url
