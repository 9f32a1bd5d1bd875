"""The referral status each lifecycle event leaves behind: one mapping for casework and statistics."""

from wegweiser.common import events


def test_every_status_event_names_its_status_and_a_reminder_changes_none() -> None:
    assert {
        events.ReferralSent: "sent",
        events.ReferralAccepted: "accepted",
        events.ReferralDeclined: "declined",
        events.ReferralStarted: "started",
        events.ReferralCompleted: "completed",
        events.ReferralDropped: "dropped",
        events.ReferralExpired: "expired",
        events.ReferralUnroutable: "unroutable",
    } == events.REFERRAL_STATUS_OF
    assert events.ReferralReminded.referral_status is None


def test_the_status_is_no_field_of_the_event() -> None:
    """A class attribute, not part of the payload: the committed JSON Schemas stay as they are."""
    assert "referral_status" not in events.ReferralSent.model_fields
    assert "referral_status" not in events.ReferralSent.model_json_schema()["properties"]
