"""The indicator catalogue is consistent: every series rests on a family cell that exists where shown."""

from __future__ import annotations

from typing import get_args

import pytest

from wegweiser.common.events.base import Channel, ClosureReason, ConsultationType, Handlungsfeld, Programme
from wegweiser.statistics.geography import DEPTH, REGION_LEVELS
from wegweiser.statistics.publication.indicators import (
    CHANNELS,
    FAMILIES,
    FIELDS,
    INDICATORS,
    LABELS,
    PROGRAMMES,
    REASON_LABELS,
    REASONS,
    TYPES,
    Family,
    Indicator,
    derived_base,
    label,
)


def test_the_codes_come_from_the_event_contracts() -> None:
    assert get_args(ConsultationType) == TYPES and get_args(Channel) == CHANNELS
    assert get_args(Handlungsfeld) == FIELDS and get_args(Programme) == PROGRAMMES
    assert get_args(ClosureReason) == REASONS


def test_every_code_has_a_german_and_an_english_label() -> None:
    for code in (*TYPES, *CHANNELS, *FIELDS, *PROGRAMMES):
        de, en = LABELS[code]
        assert de and en and de != code
    for code in REASONS:
        assert REASON_LABELS[code][0] != code
    assert label("unheard-of") == ("unheard-of", "unheard-of")  # never a KeyError in a page


@pytest.mark.parametrize("family", FAMILIES.values(), ids=lambda f: f.id)
def test_equations_link_series_of_their_own_family(family: Family) -> None:
    for total, parts in family.equations:
        assert total in family.series and parts and set(parts) <= set(family.series)
        # A total exists wherever its parts do, or suppression could not protect the parts.
        assert all(DEPTH[family.lowest_level(p)] <= DEPTH[family.lowest_level(total)] for p in parts)


@pytest.mark.parametrize("indicator", INDICATORS.values(), ids=lambda i: i.id)
def test_every_series_rests_on_a_cell_of_the_indicators_family(indicator: Indicator) -> None:
    family = FAMILIES[indicator.family]
    assert len({s.id for s in indicator.series}) == len(indicator.series)
    for s in indicator.series:
        assert derived_base(s.key) in family.series, s.key
    assert indicator.series_at(indicator.min_level), "shown at its lowest level"
    counts = [len(indicator.series_at(level)) for level in REGION_LEVELS]
    assert counts == sorted(counts, reverse=True)  # deeper levels show fewer series, never more


def test_breakdowns_start_at_the_kreis_and_programme_by_outcome_at_the_regierungsbezirk() -> None:
    by_type = INDICATORS["consultations_by_type"]
    assert [s.id for s in by_type.series_at("gemeinde")] == ["total"]
    assert [s.id for s in by_type.series_at("kreis")] == ["total", *TYPES]
    cross = INDICATORS["referral_outcomes_by_programme"]
    assert cross.series_at("kreis") == () and len(cross.series_at("regierungsbezirk")) == 80


@pytest.mark.parametrize(
    ("key", "base"),
    [
        ("median|programme:integrationskurs", "programme:integrationskurs"),
        ("p90|total", "total"),
        ("share:interpreter", "interpreter:yes"),
        ("share:plan", "plan:yes"),
        ("ratio:counsellor", "active"),
        ("median", "total"),
        ("type:folgeberatung", "type:folgeberatung"),
    ],
)
def test_derived_values_name_the_count_they_rest_on(key: str, base: str) -> None:
    assert derived_base(key) == base
