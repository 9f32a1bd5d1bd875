"""The lifecycle state machine against an independent reading of docs/domain.md, over random steps."""

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wegweiser.referrals.domain.lifecycle import (
    Accept,
    Changed,
    Command,
    Complete,
    Decline,
    Drop,
    Expire,
    InvalidTransition,
    Referral,
    Refuse,
    Remind,
    Send,
    Start,
    Unchanged,
    Withdraw,
    decide,
    from_partner_answer,
)

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
REQUESTED_ON = dt.date(2026, 11, 2)

# The specification, written out independently of the implementation's table.
MOVES = {
    "requested": {"send": "sent", "refuse": "unroutable"},
    "sent": {"remind": "sent", "accept": "accepted", "decline": "declined", "expire": "expired",
             "withdraw": "dropped"},
    "accepted": {"start": "started", "drop": "dropped", "withdraw": "dropped"},
    "started": {"complete": "completed", "drop": "dropped", "withdraw": "dropped"},
}  # fmt: skip
ALLOWED = {(state, action): after for state, moves in MOVES.items() for action, after in moves.items()}
FINAL = {"declined", "completed", "dropped", "expired", "unroutable"}


def referral() -> Referral:
    return Referral(
        referral_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        ags="08111000",
        provider_id="kreis-08111",
        programme="integrationskurs",
        consent_id=uuid.uuid4(),
        requested_on=REQUESTED_ON,
    )


def commands(at: dt.datetime) -> st.SearchStrategy[Command]:
    later = at + dt.timedelta(days=3)
    return st.one_of(
        st.just(Send("vhs-stuttgart", at, remind_at=later, expire_at=later + dt.timedelta(days=7))),
        st.just(Refuse("no_partner", at)),
        st.just(Remind(at)),
        st.just(Accept(at)),
        st.sampled_from(["no_capacity", "not_eligible"]).map(lambda r: Decline(r, at)),  # type: ignore[arg-type]
        st.dates(REQUESTED_ON, REQUESTED_ON + dt.timedelta(days=60)).map(lambda d: Start(d, at)),
        st.just(Complete(at)),
        st.sampled_from([None, "no_show"]).map(lambda r: Drop(r, at)),  # type: ignore[arg-type]
        st.just(Withdraw(at)),
        st.just(Expire(at)),
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(commands(T0), max_size=12))
def test_random_step_sequences_follow_the_specification(steps: list[Command]) -> None:
    current = referral()
    path = [current.state]
    for command in steps:
        before = current
        try:
            outcome = decide(current, command)
        except InvalidTransition as exc:
            # Refused: not in the specification (and not a repeat), with a reason in both languages.
            assert (before.state, command.action) not in ALLOWED or command.action == "remind"
            assert exc.code and exc.de and exc.en
            continue
        if isinstance(outcome, Unchanged):
            assert outcome.referral == before
            continue
        assert isinstance(outcome, Changed)
        current = outcome.referral
        assert ALLOWED[(before.state, command.action)] == current.state
        assert before.state not in FINAL  # nothing ever leaves a final state
        path.append(current.state)
        # Repeating the step that just happened is a no-op (resent answers, second timer tick).
        assert isinstance(decide(current, command), Unchanged)
    # Invariants of the final referral.
    assert (current.partner_id is not None) == ("sent" in path)
    assert (current.started_on is not None) == ("started" in path)
    if current.state == "declined":
        assert current.reason in ("no_capacity", "not_eligible")
    assert path.count("sent") <= 2  # a reminder keeps it in "sent", once


@given(st.sampled_from(sorted(FINAL)), st.lists(commands(T0), min_size=1, max_size=6))
def test_a_final_referral_never_changes(final: str, steps: list[Command]) -> None:
    current = referral().model_copy(update={"state": final, "partner_id": "p", "reason": "other"})
    for command in steps:
        try:
            outcome = decide(current, command)
        except InvalidTransition:
            continue
        assert isinstance(outcome, Unchanged)


def test_invalid_steps_say_why_in_german_and_english() -> None:
    declined = referral().model_copy(update={"state": "declined", "partner_id": "p", "reason": "no_capacity"})
    with pytest.raises(InvalidTransition) as exc:
        decide(declined, Start(REQUESTED_ON, T0))
    assert exc.value.code == "invalid_transition"
    assert "abgelehnt" in exc.value.de and "declined" in exc.value.en
    accepted = referral().model_copy(update={"state": "accepted", "partner_id": "p"})
    with pytest.raises(InvalidTransition) as early:
        decide(accepted, Start(REQUESTED_ON - dt.timedelta(days=1), T0))
    assert early.value.code == "started_before_request"


def test_partner_answers_map_to_steps_and_a_decline_needs_a_reason() -> None:
    kwargs = {"started_on": None, "today": REQUESTED_ON, "at": T0}
    assert isinstance(from_partner_answer("accepted", reason=None, **kwargs), Accept)  # type: ignore[arg-type]
    assert from_partner_answer("started", reason=None, **kwargs) == Start(REQUESTED_ON, T0)  # type: ignore[arg-type]
    for bad in (None, "no_show", "whatever"):
        with pytest.raises(InvalidTransition) as exc:
            from_partner_answer("declined", reason=bad, **kwargs)  # type: ignore[arg-type]
        assert exc.value.code == "reason_required"
    with pytest.raises(InvalidTransition):
        from_partner_answer("dropped", reason="no_capacity_at_all", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidTransition):
        from_partner_answer("maybe", reason=None, **kwargs)  # type: ignore[arg-type]
