"""Publication on a small region tree: linked tables stay safe, derived values follow their base."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from statistics_builders import case_fact

from wegweiser.statistics.geography import DEPTH, Region, RegionTree
from wegweiser.statistics.periods import PeriodRange
from wegweiser.statistics.publication.compute import CaseFact, Facts, Frame, all_families, consultations
from wegweiser.statistics.publication.disclosure import FamilyRelations, disclose, quantile
from wegweiser.statistics.publication.feed import feed_messages, message_fields
from wegweiser.statistics.publication.indicators import CHANNELS, TYPES
from wegweiser.statistics.publication.suppression import recoverable, suppress

TODAY = dt.date(2025, 11, 20)


def small_tree() -> RegionTree:
    """Land 99 → Bezirke 991, 992 → Kreise 99101, 99102, 99201 → two or three municipalities each."""
    tree = RegionTree(land="99")
    tree.add(Region("99", "Testland", "land", None))
    for rb, kreise in (("991", ("99101", "99102")), ("992", ("99201",))):
        tree.add(Region(rb, f"Bezirk {rb}", "regierungsbezirk", "99"))
        for kreis in kreise:
            tree.add(Region(kreis, f"Kreis {kreis}", "kreis", rb))
            for g in range(1, 4 if kreis != "99102" else 2):
                tree.add(Region(f"{kreis}{g:03d}", f"Gemeinde {kreis}{g:03d}", "gemeinde", kreis))
    return tree


TREE = small_tree()
GEMEINDEN = TREE.at_level("gemeinde")
FRAME = Frame(TREE, PeriodRange(202401, 202511), TODAY)


def consultation_facts(rows: list[tuple[int, int, int, int, int]]) -> Facts:
    """(municipality index, month index, type, channel, n) → totals per municipality, breakdowns per Kreis."""
    totals: Counter[tuple[str, int]] = Counter()
    breakdowns: Counter[tuple[str, int, str, str]] = Counter()
    months = FRAME.months
    for g, m, t, c, n in rows:
        ags, month = GEMEINDEN[g % len(GEMEINDEN)], months[m % len(months)]
        kreis = TREE.parent(ags)
        assert kreis is not None
        totals[(ags, month)] += n
        breakdowns[(kreis, month, "type", TYPES[t % len(TYPES)])] += n
        breakdowns[(kreis, month, "channel", CHANNELS[c % len(CHANNELS)])] += n
        breakdowns[(kreis, month, "interpreter", "yes" if (g + m) % 3 == 0 else "no")] += n
    return Facts(
        consultations=[(a, m, n) for (a, m), n in totals.items()],
        breakdowns=[(*k, n) for k, n in breakdowns.items()],
    )


rows = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 22), st.integers(0, 3), st.integers(0, 4), st.integers(1, 9)),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(rows=rows, threshold=st.integers(2, 8))
def test_linked_tables_of_a_family_never_give_a_hidden_cell_away(
    rows: list[tuple[int, int, int, int, int]], threshold: int
) -> None:
    cells = consultations(consultation_facts(rows), FRAME)
    relations = FamilyRelations(cells.family, FRAME)
    hidden = suppress(cells.counts, relations, threshold=threshold)
    every_cell = [
        (s, r, p.key)
        for s in cells.family.series
        for r in TREE.codes()
        if DEPTH[TREE.level(r)] <= DEPTH[cells.family.lowest_level(s)]
        for p in FRAME.periods.all_periods()
    ]
    assert recoverable(cells.counts, hidden, relations, every_cell) == []


def test_the_kreis_total_equals_its_municipalities_and_a_year_its_months() -> None:
    cells = consultations(consultation_facts([(0, 0, 0, 0, 4), (1, 0, 1, 1, 6), (1, 13, 2, 2, 5)]), FRAME)
    counts = cells.counts
    assert counts[("total", "99101", "2024-01")] == 10
    assert counts[("total", "99101001", "2024")] == 4
    assert counts[("total", "99", "2024")] == 10
    assert counts[("total", "99", "2025-Q1")] == 5
    assert counts[("type:erstgespraech", "99101", "2024-01")] == 4
    assert ("type:erstgespraech", "99101001", "2024-01") not in counts  # breakdowns start at the Kreis


def case(case_id: str, ags: str, opened: dt.date, **kw: object) -> CaseFact:
    return case_fact(case_id, ags, opened.toordinal(), **kw)


def test_medians_and_shares_appear_only_where_their_base_may_be_shown() -> None:
    allocated = dt.date(2024, 1, 1)
    cases = [
        # Six cases in one municipality with first consultations 10..60 days after allocation (Feb/Mar 2024).
        case(
            f"c{i}",
            "99101001",
            allocated,
            allocation_day=allocated.toordinal(),
            first_consultation_day=(allocated + dt.timedelta(days=10 * (i + 1))).toordinal(),
            first_goal_day=allocated.toordinal() if i < 4 else None,
            counsellor_id=f"b{i % 2}",
        )
        for i in range(6)
    ] + [
        # Two in a second municipality (below the threshold), five in a third.
        case(
            f"{ags}-{i}",
            ags,
            allocated,
            allocation_day=allocated.toordinal(),
            first_consultation_day=(allocated + dt.timedelta(days=5)).toordinal(),
        )
        for ags, n in (("99101002", 2), ("99101003", 5))
        for i in range(n)
    ]
    pub = disclose(all_families(Facts(cases=cases), FRAME), FRAME, threshold=5)
    shown = {(c.family, c.series, c.region, c.period): (c.value, c.suppressed) for c in pub.cells}
    reason = {(c.family, c.series, c.region, c.period): c.reason for c in pub.cells}
    # The Kreis in 2024: 13 first consultations, seven after 5 days and six after 10..60 days → median
    # (nearest rank) 5, p90 50.
    assert shown[("first_consultations", "total", "99101", "2024")] == (13, False)
    assert shown[("first_consultations", "median", "99101", "2024")] == (5, False)
    assert shown[("first_consultations", "p90", "99101", "2024")] == (50, False)
    # Two cases: primary suppression, and the median of two cases is not shown either.
    assert shown[("first_consultations", "total", "99101002", "2024")] == (None, True)
    assert shown[("first_consultations", "median", "99101002", "2024")] == (None, True)
    assert reason[("first_consultations", "total", "99101002", "2024")] == "primary"
    # The 2 would be the Kreis's 13 minus 6 minus 5: a sibling is hidden too, to protect it.
    assert shown[("first_consultations", "total", "99101003", "2024")] == (None, True)
    assert reason[("first_consultations", "total", "99101003", "2024")] == "secondary"
    # Municipality 001's six (3 in January, 2 in February, 1 in March, each hidden) are hidden as well,
    # though every relation already holds two hidden cells: the Kreis's first quarter (13) less its
    # January (10) gives 001's February + March (3, its cases only), and its quarter (6) less those
    # would give its January's 3. So its quarter and year are hidden, and with them their median.
    assert shown[("first_consultations", "total", "99101001", "2024")] == (None, True)
    assert shown[("first_consultations", "total", "99101001", "2024-Q1")] == (None, True)
    assert reason[("first_consultations", "total", "99101001", "2024")] == "secondary"
    assert shown[("first_consultations", "median", "99101001", "2024")] == (None, True)
    # Active cases at the end of December 2024: 13 in the Kreis; plan shares from the Kreis up only.
    assert shown[("cases", "active", "99101", "2024-12")] == (13, False)
    assert shown[("cases", "active", "99101", "2024")] == (13, False)  # a year shows its last month
    assert shown[("cases", "plan:yes", "99101", "2024")] == (None, True)  # 4: below the threshold
    assert shown[("cases", "plan:no", "99101", "2024")] == (None, True)  # 9 = 13 - 4
    assert shown[("cases", "share:plan", "99101", "2024")] == (None, True)
    assert ("cases", "share:plan", "99101001", "2024") not in shown
    # Two counsellors: a caseload per counsellor would describe individual staff; not shown.
    assert shown[("cases", "ratio:counsellor", "99101001", "2024")] == (None, True)


def test_the_feed_carries_suppressed_values_as_a_dot() -> None:
    facts = consultation_facts([(0, 0, 0, 0, 3), (1, 0, 0, 0, 9), (2, 0, 1, 1, 9)])
    pub = disclose(all_families(facts, FRAME), FRAME, threshold=5)
    assert "consultations_by_type/99101001/2024-01" not in feed_messages(pub, FRAME, threshold=5)
    fed = feed_messages(pub, FRAME, threshold=5, municipal_months=True)
    messages = {k: message_fields(v, FRAME) for k, (_, v) in fed.items()}
    fields = messages["consultations_by_type/99101001/2024-01"]
    assert fields["values"] == {"total": "."}
    assert fields["region_level"] == "gemeinde" and fields["period_level"] == "month"
    kreis = messages["consultations_by_type/99101/2024-01"]
    assert kreis["values"]["total"] == 21
    assert set(kreis["values"]) == {"total", *TYPES}
    assert messages["consultations_by_type/99/2024-Q1"]["period_level"] == "quarter"


def test_nearest_rank_percentiles() -> None:
    histogram = Counter({1: 1, 2: 1, 3: 1, 4: 1, 100: 1})
    assert (quantile(histogram, 0.5), quantile(histogram, 0.9)) == (3, 100)
