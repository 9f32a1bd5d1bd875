"""Disclosure control: no hidden cell can be recomputed from a published total and its published parts."""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from wegweiser.statistics.publication.suppression import (
    SUPPRESSED,
    is_primary,
    primary,
    recoverable,
    suppress,
)

Cell = tuple[int, int]  # (row, column); row 0 and column 0 are the totals


class Grid:
    """A two-way table with margins: every row and every column adds up to its total cell."""

    def __init__(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols

    def relations_of(self, cell: Cell) -> Iterable[Hashable]:
        r, c = cell
        return [("row", r), ("col", c)]

    def members(self, relation: Hashable) -> tuple[Cell, list[Cell]]:
        assert isinstance(relation, tuple)
        kind, i = relation
        if kind == "row":
            return (i, 0), [(i, c) for c in range(1, self.cols + 1)]
        return (0, i), [(r, i) for r in range(1, self.rows + 1)]


def grid_values(inner: list[list[int]]) -> dict[Cell, int]:
    values: dict[Cell, int] = {}
    for r, row in enumerate(inner, start=1):
        for c, v in enumerate(row, start=1):
            values[(r, c)] = v
            values[(r, 0)] = values.get((r, 0), 0) + v
            values[(0, c)] = values.get((0, c), 0) + v
    values[(0, 0)] = sum(v for (r, c), v in values.items() if r and c)
    return {k: v for k, v in values.items() if v}


def all_cells(rows: int, cols: int) -> list[Cell]:
    return [(r, c) for r in range(rows + 1) for c in range(cols + 1)]


grids = st.integers(1, 5).flatmap(
    lambda rows: st.integers(1, 5).flatmap(
        lambda cols: st.lists(
            st.lists(st.integers(0, 30), min_size=cols, max_size=cols), min_size=rows, max_size=rows
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(inner=grids, threshold=st.integers(1, 10))
def test_no_hidden_cell_is_recoverable_by_subtraction_from_a_published_total(
    inner: list[list[int]], threshold: int
) -> None:
    rows, cols = len(inner), len(inner[0])
    values = grid_values(inner)
    shape = Grid(rows, cols)
    hidden = suppress(values, shape, threshold=threshold)
    assert recoverable(values, hidden, shape, all_cells(rows, cols)) == []
    assert {c for c, v in values.items() if is_primary(v, threshold=threshold)} <= hidden
    assert all(values.get(c, 0) > 0 for c in hidden), "a zero is never hidden (0 may be shown)"


@settings(max_examples=100, deadline=None)
@given(inner=grids, threshold=st.integers(2, 8), seed=st.integers(0, 1000))
def test_the_pattern_depends_on_the_values_only_not_on_their_order(
    inner: list[list[int]], threshold: int, seed: int
) -> None:
    values = grid_values(inner)
    shuffled = list(values.items())
    random.Random(seed).shuffle(shuffled)
    shape = Grid(len(inner), len(inner[0]))
    assert suppress(values, shape, threshold=threshold) == suppress(
        dict(shuffled), shape, threshold=threshold
    )


def test_a_single_small_municipality_takes_the_next_smallest_sibling_with_it() -> None:
    # Kreis 25 = 3 + 10 + 12: hiding only the 3 would leave it as 25 - 10 - 12.
    values: dict[Hashable, int] = {("k",): 25, ("a",): 3, ("b",): 10, ("c",): 12}

    class Kreis:
        def relations_of(self, cell: Hashable) -> Iterable[Hashable]:
            return ["kreis"]

        def members(self, relation: Hashable) -> tuple[Hashable, list[Hashable]]:
            return ("k",), [("a",), ("b",), ("c",)]

    assert suppress(values, Kreis(), threshold=5) == {("a",), ("b",)}


def test_primary_suppression_of_one_cell_keeps_zero_and_large_counts() -> None:
    assert [primary(n, threshold=5) for n in (0, 1, 4, 5, 17)] == [0, SUPPRESSED, SUPPRESSED, 5, 17]


def test_nothing_is_hidden_when_every_count_reaches_the_threshold() -> None:
    values = grid_values([[5, 6], [7, 8]])
    assert suppress(values, Grid(2, 2), threshold=5) == set()
    assert suppress(values, Grid(2, 2), threshold=1) == set()


def test_a_hidden_cell_takes_the_smallest_part_not_the_total() -> None:
    values = grid_values([[2, 50, 9]])  # one row: 2 is primary; 9 is the smallest other part
    hidden = suppress(values, Grid(1, 3), threshold=5)
    assert (1, 1) in hidden and (1, 3) in hidden
    assert (1, 0) not in hidden and (1, 2) not in hidden
    assert not recoverable(values, hidden, Grid(1, 3), all_cells(1, 3))


def test_inconsistent_input_ends_instead_of_hiding_zeros() -> None:
    # Parts that add up to more than their total, with only zeros beside the hidden one: nothing to take.
    values = {(1, 1): 3}
    hidden = suppress(values, Grid(1, 2), threshold=5)
    assert hidden == {(1, 1)}
