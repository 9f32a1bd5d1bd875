"""Fixtures for referrals on the real broker and PostgreSQL."""

from pathlib import Path
from typing import Any

import pytest

from wegweiser.common import topics
from wegweiser.common.events.referrals import partner_feedback_topic
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import start_group_at_end


@pytest.fixture
async def settings(service_env: dict[str, Any], database_url: str) -> ReferralsSettings:
    """Fast loops, no example catalogue (each test creates its partners), groups that skip history."""
    settings = ReferralsSettings(
        database_url=database_url,
        seed_catalogue=False,
        timer_interval_s=0.2,
        webhook_poll_interval_s=0.1,
        webhook_timeout_s=2,
        webhook_backoff_initial_s=0.2,
        webhook_backoff_max_s=1,
        breaker_failure_threshold=3,
        breaker_open_s=0.5,
        breaker_open_max_s=2,
        webhook_allowed_hosts=("127.0.0.1",),  # the test receivers listen on loopback
        **service_env,
    )
    bootstrap = settings.kafka_bootstrap_servers
    await start_group_at_end(
        bootstrap, settings.consumer_group("referrals"), [topics.REFERRAL_REQUESTS.name, topics.CASES.name]
    )
    feedback = [partner_feedback_topic(p).name for p in ("it-partner-a", "it-partner-b", "it-vhs-a")]
    await start_group_at_end(bootstrap, settings.consumer_group("referrals-feedback"), feedback)
    return settings


@pytest.fixture
def tokens(dev_keys: Path) -> Any:
    from wegweiser.common import devtokens

    def bearer(role: str, **claims: Any) -> dict[str, str]:
        token = devtokens.mint(subject=f"it-{role}", roles=[role], key_dir=dev_keys, **claims)
        return {"Authorization": f"Bearer {token}"}

    return bearer
