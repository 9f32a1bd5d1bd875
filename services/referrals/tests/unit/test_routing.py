"""Routing: the chosen partner, else the most local one; consent gates every transfer."""

import uuid

import pytest

from wegweiser.common.events import Programme
from wegweiser.common.partner_areas import Place
from wegweiser.referrals.domain.catalogue import Partner, minimum_person_data
from wegweiser.referrals.domain.routing import Refused, Routed, RoutingRequest, route
from wegweiser.referrals.seed import default_programmes
from wegweiser.referrals.testing import partner

LEONBERG = Place("08115028", "08115", "08")
SINDELFINGEN = Place("08115045", "08115", "08")
STUTTGART = Place("08111000", "08111", "08")
PROGRAMMES = {p.programme: p for p in default_programmes()}


PARTNERS = [
    partner("vhs-leonberg", "integrationskurs", ags=("08115028",)),
    partner("sprachschule-bb", "integrationskurs", kreise=("08115",)),
    partner("vhs-stuttgart", "integrationskurs", kreise=("08111",)),
    partner("iq-bw", "anerkennungsberatung", laender=("08",)),
    partner("paused", "integrationskurs", kreise=("08111",)).model_copy(update={"active": False}),
]


def request(
    programme: Programme = "integrationskurs",
    chosen: str | None = None,
    consent_programme: Programme | None = None,
    consent_partner: str | None = None,
) -> RoutingRequest:
    return RoutingRequest(
        referral_id=uuid.uuid4(),
        programme=programme,
        chosen_partner_id=chosen,
        consent_programme=consent_programme or programme,
        consent_partner_id=consent_partner,
    )


def routed(decision: Routed | Refused) -> tuple[str, str]:
    assert isinstance(decision, Routed), decision
    return decision.partner.partner_id, decision.how


def refused(decision: Routed | Refused) -> str:
    assert isinstance(decision, Refused), decision
    assert decision.text_de and decision.text_en
    return decision.reason


def at(
    place: Place, req: RoutingRequest | None = None, partners: list[Partner] = PARTNERS
) -> Routed | Refused:
    """Route ``req`` (by default an Integrationskurs) with its programme's catalogue entry."""
    req = req or request()
    return route(req, programme=PROGRAMMES[req.programme], partners=partners, place=place)


def test_the_most_local_partner_wins() -> None:
    assert routed(at(LEONBERG)) == ("vhs-leonberg", "municipality")
    assert routed(at(SINDELFINGEN)) == ("sprachschule-bb", "kreis")
    assert routed(at(STUTTGART)) == ("vhs-stuttgart", "kreis")
    assert routed(at(STUTTGART, request("anerkennungsberatung"))) == ("iq-bw", "land")


def test_the_chosen_partner_wins_even_outside_its_area() -> None:
    assert routed(at(LEONBERG, request(chosen="vhs-stuttgart"))) == ("vhs-stuttgart", "chosen")
    assert routed(at(STUTTGART, request(consent_partner="sprachschule-bb"))) == ("sprachschule-bb", "consent")


def test_several_partners_at_one_level_share_the_load_stably() -> None:
    twins = [partner("a", "mbe", kreise=("08111",)), partner("b", "mbe", kreise=("08111",))]
    chosen = {routed(at(STUTTGART, request("mbe"), twins))[0] for _ in range(40)}
    assert chosen == {"a", "b"}
    one = request("mbe")
    first = at(STUTTGART, one, twins)
    assert all(at(STUTTGART, one, twins[::-1]) == first for _ in range(3))


@pytest.mark.parametrize(
    ("req", "place", "reason"),
    [
        (request(consent_programme="mbe"), STUTTGART, "consent_programme_mismatch"),
        (
            request(chosen="vhs-stuttgart", consent_partner="sprachschule-bb"),
            STUTTGART,
            "consent_partner_mismatch",
        ),
        (request(chosen="nobody"), STUTTGART, "unknown_partner"),
        (request(chosen="paused"), STUTTGART, "unknown_partner"),
        (request(chosen="iq-bw"), STUTTGART, "partner_lacks_programme"),
        (request(), Place("08426001", "08426", "08"), "no_partner"),
        (request(), Place("99999999", "unknown", "unknown"), "no_partner"),
    ],
)
def test_refusals_carry_a_reason(req: RoutingRequest, place: Place, reason: str) -> None:
    assert refused(at(place, req)) == reason


def test_a_paused_programme_is_refused() -> None:
    paused = PROGRAMMES["integrationskurs"].model_copy(update={"active": False})
    assert (
        refused(route(request(), programme=paused, partners=PARTNERS, place=STUTTGART))
        == "programme_unavailable"
    )
    assert (
        refused(route(request(), programme=None, partners=PARTNERS, place=STUTTGART))
        == "programme_unavailable"
    )


def test_only_the_programmes_minimum_data_passes() -> None:
    person = {
        "family_name": "Haddad",
        "given_names": "Rania",
        "date_of_birth": "1988-03",
        "phone": "0711",
        "email": "r@example.org",
        "address": "Hauptstr. 1",
        "person_pseudonym": "abc",
    }
    data, missing = minimum_person_data(person, PROGRAMMES["psychosozial"])
    assert data == {"given_names": "Rania", "phone": "0711"} and missing == []
    data, missing = minimum_person_data(person, PROGRAMMES["integrationskurs"])
    assert set(data) == {"family_name", "given_names", "date_of_birth", "phone"} and missing == []
    _, missing = minimum_person_data({"given_names": "Rania"}, PROGRAMMES["jobcenter"])
    assert missing == ["family_name", "date_of_birth", "address"]
