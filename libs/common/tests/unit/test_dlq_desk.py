"""A service's web desk retries only entries of its own consumer groups' dead-letter topics."""

import pytest

from wegweiser.common.engine.dlq_desk import NotOurEntry, owned

GROUPS = ["p-casework", "p-casework-referral-status"]


def test_ids_of_the_services_own_groups_pass() -> None:
    ids = ["wegweiser.intake.arrivals.v1.dlq.p-casework:3:17", "x.dlq.p-casework-referral-status:0:0"]
    assert owned(ids, GROUPS) == ids


@pytest.mark.parametrize(
    "entry_id",
    [
        "wegweiser.referrals.requests.v1.dlq.p-referrals:0:1",  # another service's group
        "x.dlq.q-p-casework:0:1",  # a group that only ends like ours
        "wegweiser.intake.arrivals.v1:0:1",  # a source topic, not a DLQ
        "x.dlq.p-casework:zero:1",  # not an id
        "nonsense",
    ],
)
def test_anything_else_is_refused(entry_id: str) -> None:
    with pytest.raises(NotOurEntry):
        owned(["x.dlq.p-casework:0:0", entry_id], GROUPS)
