"""After the day: every count through the services' own databases and APIs, against what was acknowledged.

- lost: an acknowledged arrival missing in intake or without its case; an acknowledged consultation, goal or
  referral missing in casework; a referral missing in the referrals service or never received by its partner.
- double_counted: an arrival with more than one case; more rows than acknowledged writes.
- statistics_mismatches: Land totals of the statistics API (arrivals, active cases, consultations,
  referrals) that differ from intake's and casework's counts once the publication caught up.
Arrivals of ``held_back`` municipalities (the failing one, before its replay) are expected without a case.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from systemday.day import Ledger
from systemday.stack import log


async def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(query))]
    finally:
        await engine.dispose()


async def counts(databases: Mapping[str, str]) -> dict[str, Any]:
    """What each service holds now."""
    intake, casework, referrals = databases["intake"], databases["casework"], databases["referrals"]
    arrivals = await rows(
        intake, "SELECT arrival_id::text, ags, json_array_length(persons::json) FROM arrivals"
    )
    cases = await rows(
        casework, "SELECT arrival_id::text, count(*) FROM cases WHERE arrival_id IS NOT NULL GROUP BY 1"
    )
    return {
        "arrivals": {a: ags for a, ags, _ in arrivals},
        "persons": sum(n for _, _, n in arrivals),
        "cases": {a: n for a, n in cases},
        "open_cases": (await rows(casework, "SELECT count(*) FROM cases WHERE closed_on IS NULL"))[0][0],
        "consultations": {
            r[0] for r in await rows(casework, "SELECT consultation_id::text FROM consultations")
        },
        "goals": {r[0] for r in await rows(casework, "SELECT goal_id::text FROM goals")},
        "referrals": {r[0] for r in await rows(casework, "SELECT referral_id::text FROM referrals")},
        "routed": {r[0] for r in await rows(referrals, "SELECT referral_id::text FROM referrals")},
    }


def compare(ledger: Ledger, held: Mapping[str, Any], held_back: Iterable[str]) -> dict[str, Any]:
    """Lost and double-counted items, by kind (empty lists when all is well)."""
    back = set(held_back)
    expected_cases = [a for a in held["arrivals"] if held["arrivals"][a] not in back]
    lost = {
        "arrivals_not_in_intake": [a for a in ledger.arrivals if a not in held["arrivals"]],
        "arrivals_without_case": [a for a in expected_cases if held["cases"].get(a, 0) == 0],
        "consultations": sorted(ledger.consultations - held["consultations"]),
        "goals": sorted(ledger.goals - held["goals"]),
        "referrals_not_in_casework": sorted(set(ledger.referrals) - held["referrals"]),
        "referrals_not_routed": sorted(set(ledger.referrals) - held["routed"]),
        "referrals_not_received": sorted(set(ledger.referrals) - set(ledger.received)),
    }
    double = {
        "arrivals_with_several_cases": [a for a, n in held["cases"].items() if n > 1],
        "cases_of_held_back_before_replay": [a for a in held["cases"] if held["arrivals"].get(a) in back],
        "consultations_not_acknowledged": sorted(held["consultations"] - ledger.consultations),
        "goals_not_acknowledged": sorted(held["goals"] - ledger.goals),
        "referrals_not_acknowledged": sorted(held["referrals"] - set(ledger.referrals)),
    }
    return {"lost": lost, "double": double}


async def settled(
    ledger: Ledger, databases: Mapping[str, str], held_back: Iterable[str], timeout_s: float
) -> dict[str, Any]:
    """Counts once nothing is missing any more, or at the timeout (then the missing ones are lost)."""
    deadline = time.monotonic() + timeout_s
    while True:
        held = await counts(databases)
        found = compare(ledger, held, held_back)
        missing = sum(len(v) for v in found["lost"].values())
        if not missing or time.monotonic() > deadline:
            return {**found, "held": held}
        kinds = ", ".join(f"{k} {len(v)}" for k, v in found["lost"].items() if v)
        log(f"reconciling: {missing} not there yet ({kinds})")
        await asyncio.sleep(5)


INDICATORS = {  # statistics' Land total → the count it must equal
    ("arrivals", "total"): "persons",
    ("active_cases", "active"): "open_cases",
    ("consultations_by_type", "total"): "consultations",
    ("referrals_by_programme", "total"): "referrals",
}


async def statistics_totals(url: str, headers: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=url, headers=dict(headers), timeout=30) as client:
        for indicator, series in INDICATORS:
            response = await client.get(
                f"/v1/indicators/{indicator}", params={"region": "08", "level": "land"}
            )
            out[indicator] = (
                response.json()["rows"][0]["values"][series] if response.status_code == 200 else None
            )
    return out


async def statistics_mismatches(
    url: str, headers: Mapping[str, str], databases: Mapping[str, str], timeout_s: float
) -> tuple[int, dict[str, Any]]:
    """Indicators whose Land total differs from the services' counts after ``timeout_s`` of publication."""
    deadline = time.monotonic() + timeout_s
    while True:
        held = await counts(databases)
        figures = await statistics_totals(url, headers)
        wanted = {
            i: (len(held[k]) if isinstance(held[k], (set, dict)) else held[k])
            for (i, _), k in INDICATORS.items()
        }
        differing = {
            i: {"statistics": figures[i], "services": wanted[i]} for i in wanted if figures[i] != wanted[i]
        }
        if not differing or time.monotonic() > deadline:
            return len(differing), {"statistics": figures, "services": wanted, "differing": differing}
        await asyncio.sleep(3)
