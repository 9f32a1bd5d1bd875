"""Disclosure control: official statistics never publish small numbers (docs/domain.md).

*Primary suppression* hides every count ``0 < n < threshold`` (0 may be shown). *Secondary suppression*
makes sure no hidden count can be recomputed from the published ones: every additive relation of a table
(a total and its parts — a Kreis and its municipalities, a year and its quarters, a quarter and its
months, all consultations and those of each type) that contains a hidden cell must contain at least two,
or a total could be reduced by its published parts to reveal the one hidden part. Where a relation has
exactly one hidden cell, the smallest other non-zero cell of the relation (a part before the total) is
hidden too, and the check repeats until nothing changes. The result depends only on the values, never on
the order in which events arrived, so a rebuild publishes exactly what the incremental projection did.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from typing import Protocol, TypeVar

SUPPRESSED = "."

Cell = TypeVar("Cell", bound=Hashable)


def is_primary(count: int, *, threshold: int) -> bool:
    """A count that must not be shown on its own: positive and below the threshold."""
    return 0 < count < threshold


def primary(count: int, *, threshold: int) -> int | str:
    """One cell under primary suppression only (no table around it)."""
    return SUPPRESSED if is_primary(count, threshold=threshold) else count


class Relations(Protocol[Cell]):
    """The additive relations of a table: ``total = sum(parts)``."""

    def relations_of(self, cell: Cell) -> Iterable[Hashable]:
        """Every relation the cell takes part in, as total or as part."""
        ...

    def members(self, relation: Hashable) -> tuple[Cell, list[Cell]]:
        """The relation's total and all its parts (cells that are zero included)."""
        ...


def suppress(values: Mapping[Cell, int], relations: Relations[Cell], *, threshold: int) -> set[Cell]:
    """The cells to hide: primary ones, plus secondary ones until every relation is safe.

    ``values`` holds the non-zero cells (absent cells are 0). Cost is linear in the hidden cells times
    the relations per cell; relations are enumerated only when they hold exactly one hidden cell.
    """
    hidden: set[Cell] = set()
    hidden_in: dict[Hashable, int] = {}
    pending: deque[Hashable] = deque()

    def hide(cell: Cell) -> None:
        hidden.add(cell)
        for relation in relations.relations_of(cell):
            n = hidden_in.get(relation, 0) + 1
            hidden_in[relation] = n
            if n == 1:
                pending.append(relation)

    for cell in sorted((c for c, v in values.items() if is_primary(v, threshold=threshold)), key=repr):
        hide(cell)
    while pending:
        relation = pending.popleft()
        if hidden_in[relation] != 1:
            continue
        total, parts = relations.members(relation)
        candidates = [(values.get(c, 0), 0, repr(c), c) for c in parts if c not in hidden]
        if total not in hidden:
            candidates.append((values.get(total, 0), 1, repr(total), total))
        best = min((c for c in candidates if c[0] > 0), default=None)
        if best is None:
            # Only zeros besides the hidden cell: the relation itself shows it is 0, which it cannot be
            # when hidden, so this happens only for inconsistent input (parts exceeding the total).
            continue
        hide(best[3])
    return hidden


def recoverable(
    values: Mapping[Cell, int], hidden: set[Cell], relations: Relations[Cell], cells: Iterable[Cell]
) -> list[tuple[Cell, Hashable]]:
    """Hidden cells that one relation gives away (total minus the published parts); for tests and audits."""
    found = []
    seen: set[Hashable] = set()
    for cell in cells:
        for relation in relations.relations_of(cell):
            if relation in seen:
                continue
            seen.add(relation)
            total, parts = relations.members(relation)
            members = [total, *parts]
            secret = [c for c in members if c in hidden]
            if len(secret) == 1:
                found.append((secret[0], relation))
    return found
