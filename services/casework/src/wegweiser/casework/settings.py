"""Casework settings: ``CASEWORK_*`` plus the shared names of ``ServiceSettings``."""

from pydantic_settings import SettingsConfigDict

from wegweiser.common.settings import PseudonymKeyMixin, ServiceSettings


class CaseworkSettings(PseudonymKeyMixin, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWORK_", extra="ignore", populate_by_name=True)

    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///casework.db"
