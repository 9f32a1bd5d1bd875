"""Audit of secondary suppression by linear programming: no hidden cell can be pinned to one value.

Small random hierarchical tables (Land > Kreise > Gemeinden × year > quarters > months × total = parts,
values 0..30 with many small ones, threshold 3) are suppressed; then, for every hidden cell, an intruder
who knows every published cell and every sum relation (and that counts are not negative) computes the
smallest and the largest value the cell can have (``scipy.optimize.linprog``). Every hidden cell must keep
an interval of at least one person, however the relations are combined — not only the one-relation
subtraction that ``recoverable`` checks.
"""

from __future__ import annotations

import random
from collections.abc import Hashable

import numpy as np
import pytest
from scipy.optimize import linprog

from wegweiser.statistics.publication.suppression import pinned, recoverable, suppression

THRESHOLD = 3
Cell = tuple[str, str, str]  # (series, region, period)


class Table:
    """A random three-way table: region tree × period tree × one series equation, all margins."""

    def __init__(self, rng: random.Random) -> None:
        kreise = [f"K{i}" for i in range(rng.randint(2, 3))]
        self.region_children = {"L": kreise} | {
            k: [f"{k}G{j}" for j in range(rng.randint(2, 3))] for k in kreise
        }
        quarters = ["Q1", "Q2"]
        self.period_children = {"Y": quarters} | {
            q: [f"{q}M{m}" for m in range(rng.randint(2, 3))] for q in quarters
        }
        self.parts = [f"s{i}" for i in range(rng.randint(2, 3))]
        self.region_parent = {c: p for p, cs in self.region_children.items() for c in cs}
        self.period_parent = {c: p for p, cs in self.period_children.items() for c in cs}
        regions = ["L", *self.region_parent]
        periods = ["Y", *self.period_parent]
        self.values: dict[Cell, int] = {}
        for s in self.parts:
            for r in regions:
                for t in periods:
                    if r not in self.region_children and t not in self.period_children:
                        small = rng.random() < 0.4
                        self._add((s, r, t), rng.randint(0, 4) if small else rng.randint(0, 30))
        self.cells = sorted({(s, r, t) for s in ("total", *self.parts) for r in regions for t in periods})

    def _add(self, leaf: Cell, n: int) -> None:
        s, r, t = leaf
        for series in (s, "total"):
            region: str | None = r
            while region is not None:
                period: str | None = t
                while period is not None:
                    cell = (series, region, period)
                    self.values[cell] = self.values.get(cell, 0) + n
                    period = self.period_parent.get(period)
                region = self.region_parent.get(region)

    def relations_of(self, cell: Cell) -> list[Hashable]:
        s, r, t = cell
        out: list[Hashable] = []
        if r in self.region_parent:
            out.append(("R", s, self.region_parent[r], t))
        if r in self.region_children:
            out.append(("R", s, r, t))
        if t in self.period_parent:
            out.append(("T", s, r, self.period_parent[t]))
        if t in self.period_children:
            out.append(("T", s, r, t))
        out.append(("S", r, t))
        return out

    def members(self, relation: Hashable) -> tuple[Cell, list[Cell]]:
        assert isinstance(relation, tuple)
        if relation[0] == "R":
            _, s, r, t = relation
            return (s, r, t), [(s, c, t) for c in self.region_children[r]]
        if relation[0] == "T":
            _, s, r, t = relation
            return (s, r, t), [(s, r, c) for c in self.period_children[t]]
        _, r, t = relation
        return ("total", r, t), [(p, r, t) for p in self.parts]

    def intervals(self, hidden: set[Cell]) -> dict[Cell, tuple[float, float]]:
        """Smallest and largest value of each hidden cell given everything published."""
        unknowns = sorted(hidden)
        column = {c: i for i, c in enumerate(unknowns)}
        rows, rhs = [], []
        for relation in sorted({r for c in self.cells for r in self.relations_of(c)}, key=repr):
            total, parts = self.members(relation)
            row, known = np.zeros(len(unknowns)), 0.0
            for cell, sign in ((total, 1), *((p, -1) for p in parts)):
                if cell in column:
                    row[column[cell]] += sign
                else:
                    known -= sign * self.values.get(cell, 0)
            if row.any():
                rows.append(row)
                rhs.append(known)
        out = {}
        for cell, i in column.items():
            objective = np.zeros(len(unknowns))
            objective[i] = 1.0
            low = linprog(
                objective, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None), method="highs"
            )
            high = linprog(
                -objective, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None), method="highs"
            )
            assert low.status == 0, "the published table must be consistent with the true values"
            out[cell] = (low.fun, -high.fun if high.status == 0 else float("inf"))
        return out


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_cell_can_be_pinned_by_any_combination_of_relations(seed: int) -> None:
    table = Table(random.Random(seed))
    values = {c: v for c, v in table.values.items() if v}
    result = suppression(values, table, threshold=THRESHOLD)
    hidden = result.hidden
    assert {c for c, v in values.items() if 0 < v < THRESHOLD} == result.primary
    assert not recoverable(values, hidden, table, table.cells)
    assert not pinned(hidden, table)
    intervals = table.intervals(hidden)
    for cell, (low, high) in intervals.items():
        assert low - 1e-6 <= values[cell] <= high + 1e-6
    narrow = {cell: (low, high) for cell, (low, high) in intervals.items() if high - low < 1 - 1e-6}
    assert narrow == {}, f"hidden cells an intruder can pin (or nearly): {narrow}"


@pytest.mark.parametrize("seed", range(10))
def test_the_pattern_of_a_hierarchical_table_depends_on_its_values_only(seed: int) -> None:
    # A rebuild replays events in another order than they arrived; the cells come in another order then.
    table = Table(random.Random(seed))
    values = [(c, v) for c, v in table.values.items() if v]
    shuffled = list(values)
    random.Random(seed + 1000).shuffle(shuffled)
    first = suppression(dict(values), table, threshold=THRESHOLD)
    again = suppression(dict(shuffled), table, threshold=THRESHOLD)
    assert (first.primary, first.secondary) == (again.primary, again.secondary)
