"""Each indicator on hand-computed facts (threshold 1: nothing suppressed, so the raw numbers show)."""

from __future__ import annotations

import datetime as dt

from statistics_builders import case_fact

from wegweiser.statistics.geography import Region, RegionTree
from wegweiser.statistics.periods import PeriodRange
from wegweiser.statistics.publication.compute import CaseFact, Facts, FamilyCells, Frame, all_families
from wegweiser.statistics.publication.disclosure import disclose

TODAY = dt.date(2025, 3, 15)


def tree() -> RegionTree:
    t = RegionTree(land="99")
    t.add(Region("99", "Testland", "land", None))
    t.add(Region("991", "Bezirk", "regierungsbezirk", "99"))
    for kreis, gemeinden in (("99101", ("99101001", "99101002")), ("99102", ("99102001",))):
        t.add(Region(kreis, f"Kreis {kreis}", "kreis", "991"))
        for g in gemeinden:
            t.add(Region(g, f"Gemeinde {g}", "gemeinde", kreis))
    return t


FRAME = Frame(tree(), PeriodRange(202401, 202503), TODAY)
A, B, C = "99101001", "99101002", "99102001"


def d(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


def case(case_id: str, ags: str, opened: str, **kw: object) -> CaseFact:
    return case_fact(case_id, ags, d(opened), **kw)


def published(facts: Facts) -> dict[tuple[str, str, str, str], float | None]:
    pub = disclose(all_families(facts, FRAME), FRAME, threshold=1)
    return {(c.family, c.series, c.region, c.period): c.value for c in pub.cells}


def test_arrivals_are_persons_by_allocation_month_added_up_the_hierarchy() -> None:
    v = published(
        Facts(
            arrivals=[(A, 202403, 6), (B, 202403, 2), (C, 202406, 4), (C, 202501, 3), ("00000000", 202403, 9)]
        )
    )
    assert v[("arrivals", "total", A, "2024-03")] == 6
    assert v[("arrivals", "total", "99101", "2024-Q1")] == 8
    assert v[("arrivals", "total", "99", "2024")] == 12
    assert v[("arrivals", "total", "99", "2025")] == 3
    assert ("arrivals", "total", A, "2024-04") not in v  # zero: not stored, read as 0


def test_consultations_by_type_channel_field_and_interpreter_with_its_share() -> None:
    facts = Facts(
        consultations=[(A, 202402, 10), (C, 202402, 5)],
        breakdowns=[
            ("99101", 202402, "type", "erstgespraech", 4),
            ("99101", 202402, "type", "folgeberatung", 6),
            ("99101", 202402, "channel", "telefon", 10),
            ("99101", 202402, "interpreter", "yes", 3),
            ("99101", 202402, "interpreter", "no", 7),
            ("99101", 202402, "field", "sprache", 8),
            ("99101", 202402, "field", "wohnen", 5),
            ("99102", 202402, "type", "kurzberatung", 5),
            ("99102", 202402, "channel", "video", 5),
            ("99102", 202402, "interpreter", "no", 5),
        ],
    )
    v = published(facts)
    assert v[("consultations", "total", "99", "2024-02")] == 15
    assert v[("consultations", "type:folgeberatung", "99101", "2024-Q1")] == 6
    assert v[("consultations", "channel:telefon", "991", "2024")] == 10
    assert v[("consultations", "field:sprache", "99101", "2024")] == 8  # fields overlap: 8 + 5 > 10
    assert v[("consultations", "share:interpreter", "99101", "2024-02")] == 0.3
    assert v[("consultations", "share:interpreter", "99", "2024")] == 0.2


def test_persons_reached_are_distinct_per_period() -> None:
    # One person seen in January and February 2024, another in February, a third in January 2025.
    jan, feb = 1, 2
    v = published(Facts(persons=[(A, 2024, jan | feb, 1), (A, 2024, feb, 1), (B, 2025, jan, 1)]))
    assert v[("persons", "total", A, "2024-01")] == 1
    assert v[("persons", "total", A, "2024-02")] == 2
    assert v[("persons", "total", A, "2024-Q1")] == 2  # not 3: the first person counts once
    assert v[("persons", "total", A, "2024")] == 2
    assert v[("persons", "total", "99101", "2025")] == 1


def test_active_cases_follow_a_transfer_and_count_at_month_ends() -> None:
    facts = Facts(
        cases=[
            case("x", A, "2024-01-10", closed_day=d("2024-03-31"), reason="goals_met"),
            case("y", A, "2024-02-01", counsellor_id="b1", first_goal_day=d("2024-02-20")),
            case("z", C, "2024-01-31", counsellor_id="b1"),
        ],
        moves=[("y", d("2024-05-15"), C)],
    )
    v = published(facts)
    assert v[("cases", "active", A, "2024-01")] == 1  # z opened on the last day, in C
    assert v[("cases", "active", "99", "2024-01")] == 2
    assert v[("cases", "active", A, "2024-02")] == 2
    assert v[("cases", "active", A, "2024-03")] == 1  # x closed on 31.3.: no longer open at its end
    assert v[("cases", "active", C, "2024-05")] == 2  # y moved to C on 15.5.
    assert ("cases", "active", A, "2024-05") not in v
    assert v[("cases", "active", "99", "2024-Q2")] == 2  # a quarter shows its last month
    assert v[("cases", "active", "99", "2025")] == 2  # the running year: today (15.3.2025)
    assert v[("cases", "plan:yes", "99101", "2024-02")] == 1
    assert v[("cases", "plan:no", "99101", "2024-02")] == 1
    assert v[("cases", "share:plan", "99101", "2024-02")] == 0.5
    # Counsellor b1 has y and z in C from May: two cases, one counsellor.
    assert v[("cases", "ratio:counsellor", C, "2024-06")] == 2.0
    # Closures: where the case was when it closed, by reason.
    assert v[("closures", "reason:goals_met", "99101", "2024-03")] == 1  # breakdowns: Kreis and up
    assert v[("closures", "total", "99", "2024")] == 1


def test_days_from_allocation_to_the_first_consultation_where_it_was_held() -> None:
    facts = Facts(
        cases=[
            case(
                f"c{i}",
                A,
                "2024-01-05",
                allocation_day=d("2024-01-01"),
                first_consultation_day=d("2024-01-01") + days,
            )
            for i, days in enumerate((3, 7, 7, 20, 45))
        ]
        + [case("walk-in", A, "2024-01-05", first_consultation_day=d("2024-01-09"))],
    )
    v = published(facts)
    assert v[("first_consultations", "total", A, "2024")] == 5  # the walk-in has no allocation
    assert v[("first_consultations", "median", A, "2024")] == 7
    assert v[("first_consultations", "p90", A, "2024")] == 45
    assert v[("first_consultations", "total", A, "2024-02")] == 1  # day 45 falls in February


def test_goals_set_and_achieved_per_field() -> None:
    facts = Facts(
        goals_set=[(A, 202402, "sprache", 3), (C, 202402, "wohnen", 1)],
        goals_achieved=[(A, 202406, "sprache", 2)],
    )
    v = published(facts)
    assert v[("goals_set", "total", "99", "2024-02")] == 4
    assert v[("goals_set", "field:sprache", "99101", "2024")] == 3
    assert v[("goals_achieved", "field:sprache", "991", "2024-Q2")] == 2


def test_referrals_by_programme_outcome_and_both_and_days_to_start() -> None:
    facts = Facts(
        referrals=[
            (A, 202403, "integrationskurs", "completed", 2),
            (A, 202403, "integrationskurs", "declined", 1),
            (C, 202404, "jobcenter", "started", 1),
        ],
        course_starts=[
            (A, 202405, "integrationskurs", 40, 1),
            (A, 202406, "integrationskurs", 90, 1),
            (C, 202405, "jobcenter", 10, 1),
        ],
    )
    v = published(facts)
    assert v[("referrals", "programme:integrationskurs", "99101", "2024-03")] == 3
    assert v[("referrals", "outcome:completed", "99", "2024")] == 2
    assert v[("referrals", "programme:integrationskurs|outcome:declined", "991", "2024-Q1")] == 1
    assert (
        "referrals",
        "programme:integrationskurs|outcome:declined",
        "99101",
        "2024-Q1",
    ) not in v  # RB and up
    assert v[("course_start", "total", "99", "2024-Q2")] == 3
    assert v[("course_start", "median|total", "99", "2024-Q2")] == 40
    assert v[("course_start", "p90|programme:integrationskurs", "99101", "2024")] == 90


def families(facts: Facts) -> dict[str, FamilyCells]:
    return all_families(facts, FRAME)


def test_values_outside_the_land_or_the_published_months_are_counted_as_unplaced() -> None:
    cells = families(
        Facts(
            arrivals=[(A, 202403, 2), ("00000000", 202403, 9), (A, 202312, 4), (A, 202504, 1)],
            consultations=[(A, 202401, 3), ("00000000", 202401, 5)],
        )
    )
    assert cells["arrivals"].unplaced == 9 + 4 + 1
    assert cells["consultations"].unplaced == 5
    assert sum(n for (s, r, _), n in cells["arrivals"].counts.items() if r == "99") == 2 * 3  # month, Q, year


def test_a_course_that_starts_before_its_request_is_unplaced_not_a_negative_duration() -> None:
    cells = families(Facts(course_starts=[(A, 202405, "integrationskurs", -3, 1), (A, 202405, "jmd", 12, 1)]))
    course = cells["course_start"]
    assert course.unplaced == 1
    assert course.counts[("total", "99", "2024-05")] == 1
    assert dict(course.histograms[("total", "99", "2024")]) == {12: 1}


def test_a_first_consultation_before_the_allocation_is_skipped() -> None:
    bad = case(
        "early", A, "2024-01-05", allocation_day=d("2024-02-01"), first_consultation_day=d("2024-01-20")
    )
    cells = families(Facts(cases=[bad]))["first_consultations"]
    assert cells.unplaced == 1 and not cells.counts


def test_a_closure_counts_where_the_case_was_when_it_closed() -> None:
    moved = case("m", A, "2024-01-10", closed_day=d("2024-06-30"), reason=None)
    v = published(Facts(cases=[moved], moves=[("m", d("2024-04-01"), C)]))
    assert v[("closures", "total", C, "2024-06")] == 1
    assert ("closures", "total", A, "2024-06") not in v
    assert v[("closures", "reason:other", "99102", "2024")] == 1  # no reason given: "other"


def test_a_counsellor_with_cases_in_two_kreise_counts_once_above_them() -> None:
    facts = Facts(
        cases=[
            case("p", A, "2024-01-02", counsellor_id="k1"),
            case("q", C, "2024-01-02", counsellor_id="k1"),
            case("r", C, "2024-01-02", counsellor_id="k2"),
            case("s", C, "2024-01-02"),  # no counsellor: not in the ratio
        ]
    )
    counsellors = families(facts)["cases"].counsellors
    assert counsellors[(A, "2024-01")] == (1, 1)
    assert counsellors[(C, "2024-01")] == (2, 2)
    assert counsellors[("991", "2024-01")] == (3, 2)  # three staffed cases, two distinct counsellors


def test_a_counsellor_gap_between_cases_is_not_counted() -> None:
    facts = Facts(
        cases=[
            case("early", A, "2024-01-02", counsellor_id="k1", closed_day=d("2024-02-15")),
            case("late", A, "2024-05-02", counsellor_id="k1"),
        ]
    )
    counsellors = families(facts)["cases"].counsellors
    assert counsellors[(A, "2024-01")] == (1, 1)
    assert (A, "2024-03") not in counsellors and (A, "2024-04") not in counsellors
    assert counsellors[(A, "2024-05")] == (1, 1)


def test_the_frame_knows_each_months_keys_and_its_reference_day() -> None:
    assert FRAME.keys(202402) == ("2024-02", "2024-Q1", "2024")
    assert FRAME.keys(202312) is None and FRAME.keys(202504) is None
    assert FRAME.month_key(0) == "2024-01"
    assert FRAME.month_ends[1] == d("2024-02-29")
    assert FRAME.month_ends[-1] == TODAY.toordinal()
