"""The secondary suppression before issue 14 (commit 0218bd1), kept only to measure against.

Greedy, relation by relation in the order the primary cells sort by ``repr``: a relation with a single
hidden cell takes its smallest other non-zero cell (a part before the total). ``bench/statistics_replay.py``
runs it on the same projection as the current ``suppression`` to report ``secondary_suppressed_cells_before``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Mapping
from typing import TypeVar

from wegweiser.statistics.publication.suppression import Relations, is_primary

Cell = TypeVar("Cell", bound=Hashable)


def greedy_suppress(values: Mapping[Cell, int], relations: Relations[Cell], *, threshold: int) -> set[Cell]:
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
        if best is not None:
            hide(best[3])
    return hidden
