"""Routing: the chosen partner, else the most local one; consent gates every transfer."""

import uuid

import pytest

from wegweiser.common.events import Programme
from wegweiser.common.partner_areas import Place
from wegweiser.referrals.domain.catalogue import Partner, minimum_person_data
from wegweiser.referrals.domain.routing import Refused, Routed, RoutingRequest, route
from wegweiser.referrals.seed import default_programmes

LEONBERG = Place("08115028", "08115", "08")
SINDELFINGEN = Place("08115045", "08115", "08")
STUTTGART = Place("08111000", "08111", "08")
PROGRAMMES = {p.programme: p for p in default_programmes()}


def partner(partner_id: str, *programmes: Programme, **area: tuple[str, ...]) -> Partner:
    return Partner(
        partner_id=partner_id,
        organisation=f"Org {partner_id}",
        programmes=programmes,
        delivery="kafka",
        **area,
    )


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


def at(place: Place, req: RoutingRequest | None = None) -> Routed | Refused:
    req = req or request()
    return route(req, programme=PROGRAMMES[req.programme], partners=PARTNERS, place=place)


def test_the_most_local_partner_wins() -> None:
    assert routed(at(LEONBERG)) == ("vhs-leonberg", "municipality")
    assert routed(at(SINDELFINGEN)) == ("sprachschule-bb", "kreis")
    assert routed(at(STUTTGART)) == ("vhs-stuttgart", "kreis")
    assert routed(at(STUTTGART, request("anerkennungsberatung"))) == ("iq-bw", "land")


def test_the_chosen_partner_wins_even_outside_its_area() -> None:
    decision = route(
        request(chosen="vhs-stuttgart"),
        programme=PROGRAMMES["integrationskurs"],
        partners=PARTNERS,
        place=LEONBERG,
    )
    assert routed(decision) == ("vhs-stuttgart", "chosen")
    consented = route(
        request(consent_partner="sprachschule-bb"),
        programme=PROGRAMMES["integrationskurs"],
        partners=PARTNERS,
        place=STUTTGART,
    )
    assert routed(consented) == ("sprachschule-bb", "consent")


def test_several_partners_at_one_level_share_the_load_stably() -> None:
    twins = [partner("a", "mbe", kreise=("08111",)), partner("b", "mbe", kreise=("08111",))]
    chosen = {
        routed(route(r, programme=PROGRAMMES["mbe"], partners=twins, place=STUTTGART))[0]
        for r in (request("mbe") for _ in range(40))
    }
    assert chosen == {"a", "b"}
    one = request("mbe")
    first = route(one, programme=PROGRAMMES["mbe"], partners=twins, place=STUTTGART)
    assert all(
        route(one, programme=PROGRAMMES["mbe"], partners=twins[::-1], place=STUTTGART) == first
        for _ in range(3)
    )


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
    assert (
        refused(route(req, programme=PROGRAMMES["integrationskurs"], partners=PARTNERS, place=place))
        == reason
    )


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
