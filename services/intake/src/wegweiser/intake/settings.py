"""Intake settings: ``INTAKE_*`` plus the shared names of ``ServiceSettings``."""

from pydantic_settings import SettingsConfigDict

from wegweiser.common.settings import PseudonymKeyMixin, ServiceSettings


class IntakeSettings(PseudonymKeyMixin, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///intake.db"
