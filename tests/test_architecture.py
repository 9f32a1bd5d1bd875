"""docs/architecture.md names every event type beyond the contract's list (kept in CONTRACT below)."""

import re
from pathlib import Path

from wegweiser.common import events

NOTES = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
# The event types the original design named (docs/architecture.md §5 lists the others).
CONTRACT = {
    "arrival.registered", "arrival.corrected", "arrival.relocated", "arrival.withdrawn", "duplicate.flagged",
    "case.opened", "case.assigned", "consultation.recorded", "plan.goal_set", "plan.goal_status_changed",
    "consent.granted", "consent.withdrawn", "case.transferred", "case.closed",
    "referral.requested", "referral.sent", "referral.accepted", "referral.declined", "referral.started",
    "referral.completed", "referral.dropped", "referral.expired", "referral.unroutable",
    "indicator.published",
}  # fmt: skip


def test_every_event_type_is_in_the_contract_or_in_the_notes() -> None:
    documented = set(re.findall(r"`([a-z_.]+)`", NOTES.read_text()))
    missing = []
    for ce_type in events.REGISTRY:
        name = re.sub(r"\.v\d+$", "", ce_type.removeprefix("de.wegweiser."))
        if name.split(".", 1)[1] not in CONTRACT and name not in documented:
            missing.append(name)
    assert not missing, f"add these to {NOTES.name}: {sorted(missing)}"
