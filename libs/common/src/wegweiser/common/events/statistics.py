"""Events of the statistics service on the compacted feed ``wegweiser.statistics.indicators.v1``.

One message per indicator, region and period (the Kafka key ``<indicator>/<region>/<period>``), carrying
the values of all the indicator's series after disclosure control: a suppressed value is the string
``"."``, a value that cannot be computed (no underlying cases) is ``null``; ``suppressed_reasons`` says
why each ``"."`` is hidden (``too_small``: below the threshold itself; ``protects_other``: hidden so that
no small value can be worked out from totals). The topic is compacted, so the
latest message per key is the current publication; anonymous aggregates only.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import Field

from wegweiser.common import topics
from wegweiser.common.events.base import Event

RegionLevel = Literal["gemeinde", "kreis", "regierungsbezirk", "land"]
PeriodLevel = Literal["month", "quarter", "year"]
PublishedValue = int | float | Literal["."] | None
SuppressedReason = Literal["too_small", "protects_other"]
"""Why a value is ``"."``: too small itself, or hidden so that no small value can be worked out."""


class IndicatorPublished(Event):
    """The published (already suppressed) values of one indicator for one region and period."""

    source: ClassVar[str] = "statistics"
    name: ClassVar[str] = "indicator.published"
    topic: ClassVar[topics.TopicSpec] = topics.INDICATORS

    indicator: str = Field(description="catalogue id, e.g. consultations_by_type (GET /v1/indicators)")
    region: str = Field(description="region key: municipality (AGS), Kreis, Regierungsbezirk or Land code")
    region_level: RegionLevel
    region_name: str
    period: str = Field(description="2024, 2024-Q1 or 2024-03")
    period_level: PeriodLevel
    values: dict[str, PublishedValue] = Field(
        description='series id -> value; "." = suppressed (disclosure control), null = not computable'
    )
    suppressed_reasons: dict[str, SuppressedReason] = Field(
        default_factory=dict,
        description='series id -> why its "." is hidden: too_small (below the threshold, or its base is), '
        "protects_other (hidden so that no small value can be worked out from totals); "
        "suppressed series only",
    )
    unit: str = Field(description="count, days, share (0..1) or ratio")
    threshold: int = Field(description="counts below this (except 0) are suppressed")
    generation: int = Field(description="projection generation the values come from (bumped by a rebuild)")
    published_at: dt.datetime

    def feed_key(self) -> str:
        return f"{self.indicator}/{self.region}/{self.period}"

    def subject(self) -> str:
        return self.feed_key()

    def key(self) -> str:
        return self.feed_key()
