"""Statistics settings: ``STATISTICS_*`` plus the shared names. Deliberately no pseudonym key."""

from pydantic_settings import SettingsConfigDict

from wegweiser.common.settings import ServiceSettings


class StatisticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="STATISTICS_", extra="ignore", populate_by_name=True)

    port: int = 8004
    database_url: str = "sqlite+aiosqlite:///statistics.db"
    suppression_threshold: int = 5
