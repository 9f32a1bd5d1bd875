"""From the projection's facts to the count cells of every family, for every region and period.

Pure: the loader hands in plain rows, this returns dictionaries keyed ``(series, region, period)``.
Flows (consultations, arrivals, ...) are counted per month and municipality and added up the region
and period hierarchies; stocks (active cases) are taken at the end of each month, at the municipality
responsible on that day; the quarter and the year show their last month (the current one: today).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from wegweiser.statistics.geography import DEPTH, RegionTree
from wegweiser.statistics.periods import Period, PeriodRange
from wegweiser.statistics.publication.indicators import FAMILIES, Family

Cell = tuple[str, str, str]  # (series, region, period key)


@dataclass(frozen=True, slots=True)
class CaseFact:
    case_id: Hashable  # a UUID (PostgreSQL) or its text (SQLite); only compared with itself
    ags: str | None
    opened_day: int | None
    closed_day: int | None
    reason: str | None
    allocation_day: int | None
    first_consultation_day: int | None
    counsellor_id: str | None
    first_goal_day: int | None


@dataclass
class Facts:
    """What the projection holds, pre-aggregated where SQL can (see ``projection.loader``)."""

    arrivals: list[tuple[str, int, int]] = field(default_factory=list)  # ags, month, persons
    consultations: list[tuple[str, int, int]] = field(default_factory=list)  # ags, month, n
    breakdowns: list[tuple[str, int, str, str, int]] = field(
        default_factory=list
    )  # kreis, month, dim, code, n
    persons: list[tuple[str, int, int, int]] = field(default_factory=list)  # ags, year, month bits, n
    cases: list[CaseFact] = field(default_factory=list)
    moves: list[tuple[Hashable, int, str]] = field(default_factory=list)  # case_id, day, to_ags
    goals_set: list[tuple[str, int, str, int]] = field(default_factory=list)  # ags, month, field, n
    goals_achieved: list[tuple[str, int, str, int]] = field(default_factory=list)
    referrals: list[tuple[str, int, str, str, int]] = field(
        default_factory=list
    )  # ags, month, prog, status, n
    course_starts: list[tuple[str, int, str, int, int]] = field(
        default_factory=list
    )  # ags, month, prog, days, n


@dataclass
class FamilyCells:
    family: Family
    counts: dict[Cell, int] = field(default_factory=dict)
    histograms: dict[Cell, Counter[int]] = field(default_factory=dict)
    # cases only: per (region, month key) the active cases with a counsellor and the distinct counsellors
    counsellors: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    unplaced: int = 0  # values whose municipality or month lies outside the published range


@dataclass(frozen=True)
class Frame:
    """Where and when: the region tree and the published months, with precomputed period keys."""

    tree: RegionTree
    periods: PeriodRange
    as_of: dt.date

    def __post_init__(self) -> None:
        months = self.periods.months()
        keys = {}
        for m in months:
            p = Period.month(m)
            q = p.parent
            assert q is not None
            keys[m] = (p.key, q.key, str(p.year))
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "_months", months)
        ends = [min(Period.month(m).last_day, self.as_of).toordinal() for m in months]
        object.__setattr__(self, "_ends", ends)

    @property
    def months(self) -> list[int]:
        return self._months  # type: ignore[attr-defined]

    @property
    def month_ends(self) -> list[int]:
        """Ordinal of each month's last day (today for the current month): the stock's reference day."""
        return self._ends  # type: ignore[attr-defined]

    def keys(self, month: int) -> tuple[str, str, str] | None:
        return self._keys.get(month)  # type: ignore[attr-defined]

    def month_key(self, index: int) -> str:
        return self.keys(self.months[index])[0]  # type: ignore[index]


# --- roll-ups ---------------------------------------------------------------------------------------------


def _regions_up(
    cells: Mapping[tuple[str, str, str], int], tree: RegionTree
) -> dict[tuple[str, str, str], int]:
    """Add municipality cells up to Kreis, Regierungsbezirk and Land (each level once)."""
    out = dict(cells)
    level = cells
    while level:
        parents: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        for (s, r, t), n in level.items():
            p = tree.parent(r)
            if p is not None:
                parents[(s, p, t)] += n
        for k, n in parents.items():
            out[k] = out.get(k, 0) + n
        level = parents
    return out


def _keep_levels(cells: dict[Cell, int], family: Family, tree: RegionTree) -> dict[Cell, int]:
    """Drop breakdown cells below their first level (they served only to add up)."""
    lowest = {s: DEPTH[family.lowest_level(s)] for s in family.series}
    return {
        k: n for k, n in cells.items() if n and DEPTH[tree.level(k[1])] <= lowest.get(k[0], DEPTH["gemeinde"])
    }


def flow(
    family: Family, leaf: Iterable[tuple[str, str, int, int]], frame: Frame
) -> tuple[dict[Cell, int], int]:
    """(series, region, month, n) rows → cells at every level above and for months, quarters and years.

    Rows are municipalities, or Kreise for breakdowns counted there.
    """
    tree = frame.tree
    gemeinde: defaultdict[Cell, int] = defaultdict(int)
    unplaced = 0
    for s, region, month, n in leaf:
        keys = frame.keys(month)
        if keys is None or region not in tree.regions:
            unplaced += n
            continue
        for key in keys:
            gemeinde[(s, region, key)] += n
    return _keep_levels(_regions_up(gemeinde, tree), family, tree), unplaced


def _histograms(leaf: Iterable[tuple[str, str, int, int, int]], frame: Frame) -> dict[Cell, Counter[int]]:
    """(series, ags, month, value, n) → value histograms per cell, added up like counts."""
    tree = frame.tree
    out: dict[Cell, Counter[int]] = {}
    for s, ags, month, value, n in leaf:
        keys = frame.keys(month)
        if keys is None or tree.gemeinde(ags) is None:
            continue
        for region in tree.ancestors(ags):
            for key in keys:
                h = out.get((s, region, key))
                if h is None:
                    h = out[(s, region, key)] = Counter()
                h[value] += n
    return out


# --- where a case is on a given day -----------------------------------------------------------------------


def _segments(
    cases: list[CaseFact], moves: list[tuple[Hashable, int, str]]
) -> dict[Hashable, list[tuple[int, str]]]:
    """Per case: (from day, municipality), from its opening through each transfer."""
    by_case: defaultdict[Hashable, list[tuple[int, str]]] = defaultdict(list)
    for case_id, day, to_ags in moves:
        by_case[case_id].append((day, to_ags))
    out: dict[Hashable, list[tuple[int, str]]] = {}
    for c in cases:
        if c.opened_day is None or c.ags is None:
            continue
        out[c.case_id] = sorted([(c.opened_day, c.ags), *by_case.get(c.case_id, [])])
    return out


def _where(segments: list[tuple[int, str]], day: int) -> str:
    i = bisect.bisect_right(segments, (day, "\uffff")) - 1
    return segments[max(i, 0)][1]


# --- families ---------------------------------------------------------------------------------------------


def arrivals(facts: Facts, frame: Frame) -> FamilyCells:
    family = FAMILIES["arrivals"]
    counts, unplaced = flow(family, (("total", a, m, n) for a, m, n in facts.arrivals), frame)
    return FamilyCells(family, counts, unplaced=unplaced)


def consultations(facts: Facts, frame: Frame) -> FamilyCells:
    family = FAMILIES["consultations"]
    leaf = [("total", ags, month, n) for ags, month, n in facts.consultations]
    leaf += [(f"{dim}:{code}", kreis, month, n) for kreis, month, dim, code, n in facts.breakdowns]
    counts, unplaced = flow(family, leaf, frame)
    return FamilyCells(family, counts, unplaced=unplaced)


def persons(facts: Facts, frame: Frame) -> FamilyCells:
    """Distinct persons per municipality and period (a month, a quarter or the year they were seen in)."""
    family = FAMILIES["persons"]
    tree = frame.tree
    gemeinde: defaultdict[Cell, int] = defaultdict(int)
    unplaced = 0
    for ags, year, bits, n in facts.persons:
        if tree.gemeinde(ags) is None:
            unplaced += n
            continue
        quarters: set[str] = set()
        year_key = None
        for i in range(12):
            if bits >> i & 1:
                keys = frame.keys(year * 100 + i + 1)
                if keys is None:
                    continue
                gemeinde[("total", ags, keys[0])] += n
                quarters.add(keys[1])
                year_key = keys[2]
        for q in quarters:
            gemeinde[("total", ags, q)] += n
        if year_key is not None:
            gemeinde[("total", ags, year_key)] += n
    return FamilyCells(family, _keep_levels(_regions_up(gemeinde, tree), family, tree), unplaced=unplaced)


def goals(facts: Facts, frame: Frame, *, achieved: bool) -> FamilyCells:
    family = FAMILIES["goals_achieved" if achieved else "goals_set"]
    rows = facts.goals_achieved if achieved else facts.goals_set
    leaf = [
        r for ags, month, hf, n in rows for r in (("total", ags, month, n), (f"field:{hf}", ags, month, n))
    ]
    counts, unplaced = flow(family, leaf, frame)
    return FamilyCells(family, counts, unplaced=unplaced)


def referrals(facts: Facts, frame: Frame) -> FamilyCells:
    family = FAMILIES["referrals"]
    leaf = [
        r
        for ags, month, programme, status, n in facts.referrals
        for r in (
            ("total", ags, month, n),
            (f"programme:{programme}", ags, month, n),
            (f"outcome:{status}", ags, month, n),
            (f"programme:{programme}|outcome:{status}", ags, month, n),
        )
    ]
    counts, unplaced = flow(family, leaf, frame)
    return FamilyCells(family, counts, unplaced=unplaced)


def course_start(facts: Facts, frame: Frame) -> FamilyCells:
    family = FAMILIES["course_start"]
    rows = [r for r in facts.course_starts if r[3] >= 0]
    leaf = [
        r
        for ags, month, prog, _days, n in rows
        for r in (("total", ags, month, n), (f"programme:{prog}", ags, month, n))
    ]
    counts, unplaced = flow(family, leaf, frame)
    hist = _histograms(
        (
            r
            for ags, month, prog, days, n in rows
            for r in (("total", ags, month, days, n), (f"programme:{prog}", ags, month, days, n))
        ),
        frame,
    )
    return FamilyCells(
        family, counts, histograms=hist, unplaced=unplaced + len(facts.course_starts) - len(rows)
    )


def first_consultations(facts: Facts, frame: Frame) -> FamilyCells:
    family = FAMILIES["first_consultations"]
    segments = _segments(facts.cases, facts.moves)
    leaf, values, skipped = [], [], 0
    for c in facts.cases:
        if c.first_consultation_day is None or c.allocation_day is None or c.case_id not in segments:
            continue
        days = c.first_consultation_day - c.allocation_day
        if days < 0:
            skipped += 1
            continue
        ags = _where(segments[c.case_id], c.first_consultation_day)
        month = _month(c.first_consultation_day)
        leaf.append(("total", ags, month, 1))
        values.append(("total", ags, month, days, 1))
    counts, unplaced = flow(family, leaf, frame)
    return FamilyCells(family, counts, histograms=_histograms(values, frame), unplaced=unplaced + skipped)


def closures(facts: Facts, frame: Frame) -> FamilyCells:
    family = FAMILIES["closures"]
    segments = _segments(facts.cases, facts.moves)
    leaf = []
    for c in facts.cases:
        if c.closed_day is None or c.case_id not in segments:
            continue
        ags = _where(segments[c.case_id], c.closed_day)
        month = _month(c.closed_day)
        leaf += [("total", ags, month, 1), (f"reason:{c.reason or 'other'}", ags, month, 1)]
    counts, unplaced = flow(family, leaf, frame)
    return FamilyCells(family, counts, unplaced=unplaced)


def _month(ordinal: int) -> int:
    d = dt.date.fromordinal(ordinal)
    return d.year * 100 + d.month


def cases(facts: Facts, frame: Frame) -> FamilyCells:
    """Active cases at each month's end, with and without a plan, and the counsellors behind them."""
    family = FAMILIES["cases"]
    tree = frame.tree
    ends = frame.month_ends
    n = len(ends)
    diff: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (n + 1))
    staff: defaultdict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)  # (counsellor, region)
    unplaced = 0

    def add(series: str, ags: str, first: int, last: int) -> None:
        if first <= last:
            d = diff[(series, ags)]
            d[first] += 1
            d[last + 1] -= 1

    segments = _segments(facts.cases, facts.moves)
    for c in facts.cases:
        segs = segments.get(c.case_id)
        if segs is None or c.opened_day is None:
            continue
        first = bisect.bisect_left(ends, c.opened_day)  # first month-end on or after opening
        last = n - 1 if c.closed_day is None else bisect.bisect_left(ends, c.closed_day) - 1
        if first > last:
            continue
        plan_from = n if c.first_goal_day is None else bisect.bisect_left(ends, c.first_goal_day)
        for k, (from_day, ags) in enumerate(segs):
            lo = first if k == 0 else max(first, bisect.bisect_left(ends, from_day))
            hi = last if k == len(segs) - 1 else min(last, bisect.bisect_left(ends, segs[k + 1][0]) - 1)
            if lo > hi:
                continue
            if tree.gemeinde(ags) is None:
                unplaced += 1
                continue
            add("active", ags, lo, hi)
            add("plan:yes", ags, max(lo, plan_from), hi)
            add("plan:no", ags, lo, min(hi, plan_from - 1))
            if c.counsellor_id:
                add("staffed", ags, lo, hi)
                for region in tree.ancestors(ags):
                    staff[(c.counsellor_id, region)].append((lo, hi))

    gemeinde: dict[Cell, int] = {}
    staffed: dict[tuple[str, str], int] = {}
    for (series, ags), d in diff.items():
        running = 0
        for i in range(n):
            running += d[i]
            if running:
                if series == "staffed":
                    staffed[(ags, frame.month_key(i))] = running
                else:
                    gemeinde[(series, ags, frame.month_key(i))] = running
    counts = _keep_levels(_regions_up(gemeinde, tree), family, tree)

    # Distinct counsellors per region and month: merge each counsellor's intervals per region.
    heads: defaultdict[str, list[int]] = defaultdict(lambda: [0] * (n + 1))
    for (_counsellor, region), intervals in staff.items():
        intervals.sort()
        lo, hi = intervals[0]
        for a, b in intervals[1:]:
            if a > hi + 1:
                heads[region][lo] += 1
                heads[region][hi + 1] -= 1
                lo, hi = a, b
            else:
                hi = max(hi, b)
        heads[region][lo] += 1
        heads[region][hi + 1] -= 1
    staffed_all = _regions_up({("staffed", a, t): v for (a, t), v in staffed.items()}, tree)
    counsellors: dict[tuple[str, str], tuple[int, int]] = {}
    for region, d in heads.items():
        running = 0
        for i in range(n):
            running += d[i]
            if running:
                key = frame.month_key(i)
                counsellors[(region, key)] = (staffed_all.get(("staffed", region, key), 0), running)
    return FamilyCells(family, counts, counsellors=counsellors, unplaced=unplaced)


def all_families(facts: Facts, frame: Frame) -> dict[str, FamilyCells]:
    """Every family's cells."""
    out = [
        arrivals(facts, frame),
        cases(facts, frame),
        persons(facts, frame),
        consultations(facts, frame),
        first_consultations(facts, frame),
        goals(facts, frame, achieved=False),
        goals(facts, frame, achieved=True),
        referrals(facts, frame),
        course_start(facts, frame),
        closures(facts, frame),
    ]
    return {f.family.id: f for f in out}
