"""Admission control at the edge (ARCHITECTURE §5): quota per authority and per target AGS."""

from __future__ import annotations

from wegweiser.intake.api.errors import QuotaExceeded
from wegweiser.intake.quotas import Quotas


def authority_exhausted(authority_id: str, wait_s: float) -> QuotaExceeded:
    return QuotaExceeded(
        wait_s,
        f"Kontingent der Behörde {authority_id} ausgeschöpft; bitte später erneut senden.",
        f"Quota of authority {authority_id} exhausted; please retry later.",
    )


def municipality_message(ags: str, *, english: bool) -> str:
    if english:
        return f"Quota of municipality {ags} exhausted; please retry later."
    return f"Kontingent der Gemeinde {ags} ausgeschöpft; bitte später erneut senden."


def admit(quotas: Quotas, authority_id: str, ags_counts: dict[str, int]) -> dict[str, float]:
    """Take quota for the arrivals about to be registered; 429 when the authority's bucket is empty.

    Returns the AGS whose own bucket refused, with the wait for each; their share is given back.
    """
    total = sum(ags_counts.values())
    wait = quotas.admit_authority(authority_id, total)
    if wait > 0:
        raise authority_exhausted(authority_id, wait)
    refused = quotas.admit_ags(ags_counts)
    if refused:
        quotas.refund_authority(authority_id, sum(ags_counts[a] for a in refused))
    return refused
