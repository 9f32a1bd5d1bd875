"""Reads one generation back as ``compute.Facts``: grouped in SQL where the grouping is plain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from wegweiser.statistics.projection.tables import table_name
from wegweiser.statistics.publication.compute import CaseFact, Facts


async def load_facts(conn: AsyncConnection, generation: int) -> Facts:
    """Everything publication needs from generation ``generation``."""

    def t(name: str) -> str:
        return table_name(generation, name)

    async def rows(sql: str) -> list[Any]:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]

    facts = Facts()
    facts.arrivals = await rows(
        f"SELECT COALESCE(relocated_to, ags), allocation_month, SUM(persons) FROM {t('arrivals')} "
        "WHERE withdrawn_day IS NULL AND snap_at IS NOT NULL GROUP BY COALESCE(relocated_to, ags), "
        "allocation_month"
    )
    facts.consultations = await rows(f"SELECT ags, month, n FROM {t('consultations')}")
    facts.breakdowns = await rows(f"SELECT kreis, month, dimension, code, n FROM {t('breakdowns')}")
    facts.persons = await rows(
        f"SELECT ags, year, months, COUNT(*) FROM {t('persons')} GROUP BY ags, year, months"
    )
    first_goal = dict(
        await rows(
            f"SELECT case_id, MIN(set_day) FROM {t('goals')} WHERE set_day IS NOT NULL GROUP BY case_id"
        )
    )
    facts.cases = [
        CaseFact(
            case_id=r[0],
            ags=r[1],
            opened_day=r[2],
            closed_day=r[3],
            reason=r[4],
            allocation_day=r[5],
            first_consultation_day=r[6],
            counsellor_id=r[7],
            first_goal_day=first_goal.get(r[0]),
        )
        for r in await rows(
            f"SELECT case_id, ags, opened_day, closed_day, reason, allocation_day, first_consultation_day, "
            f"counsellor_id FROM {t('cases')}"
        )
    ]
    facts.moves = await rows(f"SELECT case_id, moved_day, to_ags FROM {t('moves')}")
    facts.goals_set = await rows(
        f"SELECT ags, set_month, field, COUNT(*) FROM {t('goals')} WHERE set_month IS NOT NULL "
        f"GROUP BY ags, set_month, field"
    )
    facts.goals_achieved = await rows(
        f"SELECT status_ags, status_month, status_field, COUNT(*) FROM {t('goals')} WHERE status = "
        "'achieved' "
        f"GROUP BY status_ags, status_month, status_field"
    )
    facts.referrals = await rows(
        f"SELECT ags, requested_month, programme, status, COUNT(*) FROM {t('referrals')} "
        f"WHERE status IS NOT NULL GROUP BY ags, requested_month, programme, status"
    )
    facts.course_starts = await rows(
        f"SELECT ags, started_month, programme, started_day - requested_day, COUNT(*) FROM {t('referrals')} "
        f"WHERE started_day IS NOT NULL AND requested_day IS NOT NULL "
        f"GROUP BY ags, started_month, programme, started_day - requested_day"
    )
    return facts
