"""The region tree statistics rolls up: BW's populated municipalities and every region above them."""

from __future__ import annotations

import pytest

from wegweiser.statistics.geography import DEPTH, REGION_LEVELS, Region, RegionTree, region_tree

BW = region_tree("08")


def test_bw_has_four_regierungsbezirke_and_44_kreise() -> None:
    assert BW.at_level("land") == ["08"] and BW.regions["08"].name == "Baden-Württemberg"
    assert BW.at_level("regierungsbezirk") == ["081", "082", "083", "084"]
    assert len(BW.at_level("kreis")) == 44
    assert len(BW.at_level("gemeinde")) > 1000


def test_every_municipality_reaches_the_land_through_one_kreis_and_one_regierungsbezirk() -> None:
    for ags in BW.at_level("gemeinde"):
        chain = BW.ancestors(ags)
        assert [BW.level(c) for c in chain] == ["gemeinde", "kreis", "regierungsbezirk", "land"], ags
        assert chain[-1] == "08"


def test_children_are_exactly_the_regions_one_level_down() -> None:
    for code, children in BW.children.items():
        for child in children:
            assert BW.parent(child) == code
            assert DEPTH[BW.level(child)] == DEPTH[BW.level(code)] + 1


def test_descendants_at_a_level_partition_the_region() -> None:
    kreise = BW.descendants("08", "kreis")
    gemeinden = [g for k in kreise for g in BW.descendants(k, "gemeinde")]
    assert sorted(gemeinden) == sorted(BW.descendants("08", "gemeinde"))
    assert len(set(gemeinden)) == len(gemeinden)
    assert BW.descendants("08115", "kreis") == ["08115"]  # a region of that level is its own
    assert "08115001" in BW.descendants("08115", "gemeinde")


def test_only_municipalities_of_this_land_are_gemeinden() -> None:
    assert BW.gemeinde("08115001") == "08115001"
    assert BW.gemeinde("08115") is None  # a Kreis
    assert BW.gemeinde("09162000") is None  # München: another Land
    assert BW.gemeinde("nonsense") is None
    assert BW.get("nonsense") is None and BW.parent("nonsense") is None


def test_the_tree_is_built_once_per_land() -> None:
    assert region_tree("08") is BW


def test_a_tree_ignores_a_region_added_twice() -> None:
    tree = RegionTree(land="99")
    tree.add(Region("99", "Testland", "land", None))
    tree.add(Region("99001", "Kreis", "kreis", "99"))
    tree.add(Region("99001", "Kreis", "kreis", "99"))
    assert tree.children["99"] == ["99001"]
    assert list(tree.codes()) == ["99", "99001"]


@pytest.mark.parametrize("level", REGION_LEVELS)
def test_depth_orders_the_levels(level: str) -> None:
    assert REGION_LEVELS[DEPTH[level]] == level  # type: ignore[index]
