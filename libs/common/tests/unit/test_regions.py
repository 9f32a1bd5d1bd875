from wegweiser.common.regions import catalogue, kreis_of


def test_baden_wuerttemberg_has_1101_populated_municipalities_in_44_kreise() -> None:
    bw = catalogue().in_land("08")
    populated = [m for m in bw if m.population > 0]
    assert len(populated) == 1101
    assert len({m.kreis_ags for m in populated}) == 44
    assert sum(m.population for m in bw) == 11_280_257


def test_allocation_targets_are_populated_municipalities_only() -> None:
    assert catalogue().is_allocation_target("08111000")
    assert not catalogue().is_allocation_target("99999999")
    unpopulated = next(m for m in catalogue().in_land("08") if m.population == 0)
    assert not catalogue().is_allocation_target(unpopulated.ags)
    assert kreis_of("08111000") == "08111"
