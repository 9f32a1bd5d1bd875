"""Disclosure control: no hidden cell can be recomputed from a published total and its published parts."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Hashable, Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from wegweiser.statistics.publication.suppression import (
    SUPPRESSED,
    is_primary,
    pinned,
    primary,
    recoverable,
    suppress,
    suppression,
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


class Tree:
    """Regions as a tree of ``total = parts`` relations: each parent node is one relation."""

    def __init__(self, children: dict[str, list[str]]) -> None:
        self.children = children
        self.parent = {c: p for p, cs in children.items() for c in cs}

    def relations_of(self, cell: str) -> Iterable[Hashable]:
        return [r for r in (self.parent.get(cell), cell if cell in self.children else None) if r is not None]

    def members(self, relation: Hashable) -> tuple[str, list[str]]:
        assert isinstance(relation, str)
        return relation, self.children[relation]


def test_a_total_that_must_be_hidden_anyway_protects_its_parts_without_a_sibling() -> None:
    # Land 126 = RB1 124 + RB2 2; RB1 124 = K1 3 + K2 40 + Stuttgart 81. RB2's 2 makes RB1 hidden (the
    # Land's only other part), and RB1 hidden protects K1's 3 as well: K2 and Stuttgart stay shown.
    # (Taken relation by relation in the order of the primary cells, K1 would first take K2 with it.)
    tree = Tree({"land": ["rb1", "rb2"], "rb1": ["k1", "k2", "stuttgart"]})
    values = {"land": 126, "rb1": 124, "rb2": 2, "k1": 3, "k2": 40, "stuttgart": 81}
    result = suppression(values, tree, threshold=5)
    assert result.primary == {"rb2", "k1"}
    assert result.secondary == {"rb1"}
    assert [result.reason(c) for c in ("k1", "rb1", "k2")] == ["primary", "secondary", None]
    assert not recoverable(values, result.hidden, tree, values)
    assert not pinned(result.hidden, tree)


def test_a_secondary_cell_is_given_back_when_its_relations_stay_protected() -> None:
    # Row 1: 2 (primary) and 9, 50; column 1: 2 and 3 (both primary) — the column needs nothing more,
    # the row takes its smallest other part, 9, which column 3 then protects with row 2's 40.
    values = grid_values([[2, 50, 9], [3, 60, 40]])
    result = suppression(values, Grid(2, 3), threshold=5)
    assert result.primary == {(1, 1), (2, 1)}
    # Every relation holds none or two hidden cells, and none is hidden for nothing: each secondary cell
    # is the second hidden cell of one of its relations.
    hidden_in = Counter(r for c in result.hidden for r in Grid(2, 3).relations_of(c))
    assert set(hidden_in.values()) <= {2}
    assert not pinned(result.hidden, Grid(2, 3))


def test_a_chain_of_relations_that_pins_a_hidden_cell_is_found() -> None:
    # Three published totals over three hidden cells in a ring: a + b, b + c and a + c give
    # a = (t1 - t2 + t3) / 2 away, though every relation holds two hidden cells. With t3 hidden as well
    # there is one unknown more than independent relations, and nothing is pinned.
    ring = {"r1": ("t1", ["a", "b"]), "r2": ("t2", ["b", "c"]), "r3": ("t3", ["a", "c"])}

    class Ring:
        rel = ring

        def relations_of(self, cell: str) -> Iterable[Hashable]:
            return [r for r, (t, ps) in self.rel.items() if cell == t or cell in ps]

        def members(self, relation: Hashable) -> tuple[str, list[str]]:
            assert isinstance(relation, str)
            total, parts = self.rel[relation]
            return total, list(parts)

    assert set(pinned({"a", "b", "c"}, Ring())) == {"a", "b", "c"}
    assert pinned({"a", "b", "c", "t3"}, Ring()) == {}
    values = {"t1": 10, "t2": 12, "t3": 14, "a": 6, "b": 4, "c": 8}
    assert not pinned(suppression(values, Ring(), threshold=5).hidden, Ring())
