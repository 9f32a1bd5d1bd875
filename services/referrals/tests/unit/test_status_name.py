"""One name for a referral's status (issue 14): ``status`` as in casework and the events, added beside
the deprecated ``state`` so that no existing client breaks."""

from typing import Any

import pytest

from wegweiser.referrals.api.feedback import FeedbackOut
from wegweiser.referrals.api.partner import PartnerReferralOut
from wegweiser.referrals.api.staff import ReferralOut
from wegweiser.referrals.app import build
from wegweiser.referrals.settings import ReferralsSettings


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return build(ReferralsSettings()).openapi()


@pytest.mark.parametrize("model", [PartnerReferralOut, FeedbackOut, ReferralOut])
def test_every_answer_names_the_status_status_and_keeps_state_deprecated(
    openapi: dict[str, Any], model: type
) -> None:
    schema = openapi["components"]["schemas"][model.__name__]
    properties = schema["properties"]
    assert {"status", "state"} <= set(schema["required"])
    assert "deprecated" not in properties["status"]
    assert properties["state"]["deprecated"] is True
    if "state_text" in properties:
        assert properties["state_text"]["deprecated"] is True and "status_text" in schema["required"]


def test_the_partner_list_filters_by_status_and_still_by_the_deprecated_state(
    openapi: dict[str, Any],
) -> None:
    parameters = {p["name"]: p for p in openapi["paths"]["/v1/partner/referrals"]["get"]["parameters"]}
    assert not parameters["status"].get("deprecated")
    assert parameters["state"]["deprecated"] is True


def test_no_answer_has_state_without_status(openapi: dict[str, Any]) -> None:
    """A new model with only ``state`` would bring the two names back."""
    offenders = [
        name
        for name, schema in openapi["components"]["schemas"].items()
        if "state" in schema.get("properties", {}) and "status" not in schema["properties"]
    ]
    assert offenders == []
