"""Referrals settings: ``REFERRALS_*`` plus the shared names of ``ServiceSettings``."""

from pydantic_settings import SettingsConfigDict

from wegweiser.common.settings import PseudonymKeyMixin, ServiceSettings


class ReferralsSettings(PseudonymKeyMixin, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRALS_", extra="ignore", populate_by_name=True)

    port: int = 8003
    database_url: str = "sqlite+aiosqlite:///referrals.db"
