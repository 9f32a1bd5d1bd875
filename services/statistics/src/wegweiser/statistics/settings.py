"""Statistics settings: ``STATISTICS_*`` plus the shared names. Deliberately no pseudonym key."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wegweiser.common.engine import EngineConfig
from wegweiser.common.settings import BackgroundServiceMixin, ServiceSettings


class StatisticsSettings(BackgroundServiceMixin, ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="STATISTICS_", extra="ignore", populate_by_name=True, env_nested_delimiter="__"
    )

    port: int = 8004
    database_url: str = "sqlite+aiosqlite:///statistics.db"
    suppression_threshold: int = Field(5, ge=1, description="counts 0 < n < threshold are suppressed")
    land: str = Field("08", description="the Land whose municipalities are published (region catalogue code)")
    first_year: int = Field(2017, ge=1990, description="first year published (the programme began in 2017)")
    publish_interval_s: float = Field(
        5.0, gt=0, description="shortest pause between publications (and at least twice their duration)"
    )
    feed_municipal_months: bool = Field(
        False, description="also feed municipalities by month (API and downloads always have them)"
    )
    rebuild_flush_events: int = Field(
        500_000, ge=1, description="events per transaction of a rebuild (memory: roughly 250 MB per 500,000)"
    )
    rebuild_flush_interval_s: float = Field(
        30.0, gt=0, description="longest time a rebuild holds events in memory before it writes them"
    )
    rebuild_workers: int = Field(
        2, ge=1, le=32, description="processes a large rebuild uses (PostgreSQL only)"
    )
    dedupe_window_days: int = Field(30, ge=1, description="how far apart a re-published duplicate may be")
    source_topics: list[str] | None = Field(
        None, description="override of the three pseudonymous input topics (benchmarks, isolated tests)"
    )
    engine: EngineConfig = Field(
        default_factory=EngineConfig,
        description="tuning of the live consumer engine (e.g. STATISTICS_ENGINE__MAX_ATTEMPTS=3)",
    )
    rebuild_check_interval_s: float = Field(
        10.0, gt=0, description="how often a replica looks for a rebuild whose replica went away"
    )
    retired_tables_kept_s: float = Field(
        60.0, ge=0, description="how long a retired generation's tables stay for readers still on it"
    )
