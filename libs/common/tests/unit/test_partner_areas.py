"""The one rule of which partners serve a municipality (casework and referrals both apply it)."""

from wegweiser.common.partner_areas import PartnerArea, Place, place_of

LEONBERG = Place("08115028", "08115", "08")


def test_the_most_local_named_region_decides_the_level() -> None:
    assert PartnerArea(ags=["08115028"], kreise=["08115"], laender=["08"]).level(LEONBERG) == "municipality"
    assert PartnerArea(kreise=["08115"], laender=["08"]).level(LEONBERG) == "kreis"
    assert PartnerArea(laender=["08"]).level(LEONBERG) == "land"
    assert PartnerArea().level(LEONBERG) == "everywhere"  # an old record that names nothing


def test_a_partner_elsewhere_does_not_serve() -> None:
    elsewhere = PartnerArea(ags=["08111000"], kreise=["08111"], laender=["09"])
    assert elsewhere.level(LEONBERG) is None and not elsewhere.serves(LEONBERG)


def test_places_come_from_the_region_catalogue() -> None:
    assert place_of("08115028") == LEONBERG
    assert place_of("99999999") == Place("99999999", "unknown", "unknown")
