"""The published cells as every output reads them: one region tree, one period range, one threshold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wegweiser.statistics.db import Generation
from wegweiser.statistics.geography import RegionTree, region_tree
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.periods import PeriodRange
from wegweiser.statistics.read import views
from wegweiser.statistics.settings import StatisticsSettings


@dataclass(frozen=True)
class Published:
    settings: StatisticsSettings
    engine: AsyncEngine
    generations: Generations
    today: Callable[[], dt.date]

    @property
    def tree(self) -> RegionTree:
        return region_tree(self.settings.land)

    @property
    def threshold(self) -> int:
        return self.settings.suppression_threshold

    def periods(self) -> PeriodRange:
        """From the first published year to this month (the range grows with the calendar)."""
        return PeriodRange.until(self.today(), first_year=self.settings.first_year)

    def resolve(
        self, indicator_id: str, *, region: str | None, level: str | None, period: str | None
    ) -> views.Query:
        """A query checked against the catalogue, this Land's regions and today's period range."""
        return views.resolve(
            indicator_id, region=region, level=level, period=period, tree=self.tree, periods=self.periods()
        )

    def connect(self) -> AsyncConnection:
        """A connection for several reads of one page (``async with published.connect() as conn``)."""
        return self.engine.connect()

    async def table(self, q: views.Query, active: Generation) -> views.TableView:
        """The table of ``q`` as published from the serving generation (suppression applied)."""
        async with self.engine.connect() as conn:
            return await views.table(
                conn,
                q,
                tree=self.tree,
                generation=active.id,
                published_at=active.published_at,
                threshold=self.threshold,
            )
