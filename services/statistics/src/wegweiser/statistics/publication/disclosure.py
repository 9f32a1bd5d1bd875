"""Disclosure control applied to each family's cells, then derived values from what may be shown.

Everything published (JSON, CSV, XLSX, charts, the feed) is read from the rows this produces, so every
output shows the same suppressed numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from wegweiser.statistics.geography import DEPTH
from wegweiser.statistics.periods import Period, PeriodLevel
from wegweiser.statistics.publication.compute import Cell, FamilyCells, Frame
from wegweiser.statistics.publication.indicators import Family
from wegweiser.statistics.publication.suppression import Reason, suppression


class FamilyRelations:
    """The additive relations of a family's table (regions, periods, linked totals)."""

    def __init__(self, family: Family, frame: Frame) -> None:
        self.family = family
        self.tree = frame.tree
        self.lowest = {s: DEPTH[family.lowest_level(s)] for s in family.series}
        self.equations = family.equations
        self.in_equations: dict[str, list[int]] = {}
        for i, (total, parts) in enumerate(family.equations):
            for s in (total, *parts):
                self.in_equations.setdefault(s, []).append(i)
        self.period_parent: dict[str, str] = {}
        self.period_children: dict[str, list[str]] = {}
        if family.time == "flow":
            for p in frame.periods.all_periods():
                if p.parent is not None:
                    self.period_parent[p.key] = p.parent.key
                if p.children:
                    self.period_children[p.key] = [c.key for c in p.children]

    def relations_of(self, cell: Cell) -> Iterable[Hashable]:
        s, r, t = cell
        tree = self.tree
        depth = DEPTH[tree.level(r)]
        out: list[Hashable] = []
        if depth > self.lowest.get(s, 3):
            return out  # the series does not exist this far down
        parent = tree.parent(r)
        if parent is not None:
            out.append(("R", s, parent, t))
        children = tree.children.get(r)
        if children and DEPTH[tree.level(children[0])] <= self.lowest.get(s, 3):
            out.append(("R", s, r, t))
        up = self.period_parent.get(t)
        if up is not None:
            out.append(("T", s, r, up))
        if t in self.period_children:
            out.append(("T", s, r, t))
        for i in self.in_equations.get(s, ()):
            first_part = self.equations[i][1][0]
            if depth <= self.lowest.get(first_part, 3):
                out.append(("S", i, r, t))
        return out

    def members(self, relation: Hashable) -> tuple[Cell, list[Cell]]:
        assert isinstance(relation, tuple)
        kind = relation[0]
        if kind == "R":
            _, s, r, t = relation
            return (s, r, t), [(s, c, t) for c in self.tree.children[r]]
        if kind == "T":
            _, s, r, t = relation
            return (s, r, t), [(s, r, c) for c in self.period_children[t]]
        _, i, r, t = relation
        total, parts = self.equations[i]
        return (total, r, t), [(p, r, t) for p in parts]


@dataclass(frozen=True, slots=True)
class PublishedCell:
    family: str
    period: str
    region: str
    series: str
    value: float | None  # None when suppressed
    suppressed: bool
    reason: Reason | None = None  # why it is hidden: too small itself, or protecting another cell


@dataclass
class Publication:
    cells: list[PublishedCell] = field(default_factory=list)
    suppressed: int = 0
    unplaced: int = 0
    primary_counts: int = 0  # counts hidden because they are too small (before the stock periods' copies)
    secondary_counts: int = 0  # counts hidden to protect another

    def add(self, family: str, cell: Cell, value: float | None, reason: Reason | None) -> None:
        s, r, t = cell
        hidden = reason is not None
        self.cells.append(PublishedCell(family, t, r, s, None if hidden else value, hidden, reason))
        self.suppressed += hidden


def quantile(histogram: Counter[int], p: float) -> int:
    """Nearest-rank percentile: the smallest value with at least ``p`` of the observations at or below."""
    total = sum(histogram.values())
    rank = max(1, math.ceil(p * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise ValueError("empty histogram")


def disclose(families: dict[str, FamilyCells], frame: Frame, *, threshold: int) -> Publication:
    """Suppressed counts and gated derived values of every family."""
    out = Publication()
    for fc in families.values():
        _publish_family(fc, frame, threshold, out)
        out.unplaced += fc.unplaced
    return out


def _publish_family(fc: FamilyCells, frame: Frame, threshold: int, out: Publication) -> None:
    family = fc.family
    counts = fc.counts
    pattern = suppression(counts, FamilyRelations(family, frame), threshold=threshold)
    hidden = pattern.hidden
    out.primary_counts += len(pattern.primary)
    out.secondary_counts += len(pattern.secondary)
    fid = family.id
    for cell, n in counts.items():
        out.add(fid, cell, n, pattern.reason(cell))

    def shown(cell: Cell) -> bool:
        return cell not in hidden

    def gate(*cells: Cell) -> bool | None:
        """None: nothing to compute; True: may be shown; False: suppressed."""
        base = counts.get(cells[0], 0)
        if base == 0:
            return None
        return base >= threshold and all(shown(c) for c in cells)

    def why(base: Cell) -> Reason:
        """A derived value is hidden because its base is too small, or to protect a hidden part."""
        return "primary" if counts.get(base, 0) < threshold else "secondary"

    derived: list[tuple[Cell, float | None, Reason | None]] = []

    def share(key: str, base: str, part: str, rest: str) -> None:
        for (s, r, t), n in counts.items():
            if s != base or ((part, r, t) not in counts and (rest, r, t) not in counts):
                continue
            ok = gate((base, r, t), (part, r, t), (rest, r, t))
            if ok is not None:
                value = round(counts.get((part, r, t), 0) / n, 4) if ok else None
                derived.append(((key, r, t), value, None if ok else why((base, r, t))))

    if fid == "consultations":
        share("share:interpreter", "total", "interpreter:yes", "interpreter:no")
    elif fid == "cases":
        share("share:plan", "active", "plan:yes", "plan:no")
        for (r, t), (staffed, heads) in fc.counsellors.items():
            enough = heads >= threshold
            derived.append(
                (
                    ("ratio:counsellor", r, t),
                    round(staffed / heads, 1) if enough else None,
                    None if enough else "primary",
                )
            )
    elif fid in ("first_consultations", "course_start"):
        for (s, r, t), histogram in fc.histograms.items():
            ok = gate((s, r, t))
            if ok is None:
                continue
            prefix = ("median", "p90") if fid == "first_consultations" else (f"median|{s}", f"p90|{s}")
            for key, p in zip(prefix, (0.5, 0.9), strict=True):
                derived.append(
                    ((key, r, t), quantile(histogram, p) if ok else None, None if ok else why((s, r, t)))
                )
    for cell, value, reason in derived:
        out.add(fid, cell, value, reason)
    if family.time == "stock":
        _stock_periods(fid, frame, out)


def _stock_periods(fid: str, frame: Frame, out: Publication) -> None:
    """A quarter or year of a stock shows its last (begun) month: the same cell, the same suppression."""
    by_month: dict[str, list[PublishedCell]] = {}
    for c in out.cells:
        if c.family == fid:
            by_month.setdefault(c.period, []).append(c)
    levels: tuple[PeriodLevel, ...] = ("quarter", "year")
    for level in levels:
        for period in frame.periods.periods(level):
            reference = Period.month(frame.periods.clamp_last_month(period)).key
            for c in by_month.get(reference, ()):
                out.cells.append(
                    PublishedCell(fid, period.key, c.region, c.series, c.value, c.suppressed, c.reason)
                )
                out.suppressed += c.suppressed
