"""Disclosure control: official statistics never publish small numbers (docs/domain.md).

*Primary suppression* hides every count ``0 < n < threshold`` (0 may be shown). *Secondary suppression*
makes sure no hidden count can be recomputed from the published ones: every additive relation of a table
(a total and its parts — a Kreis and its municipalities, a year and its quarters, a quarter and its
months, all consultations and those of each type) that contains a hidden cell must contain at least two,
or a total could be reduced by its published parts to reveal the one hidden part.

Secondary cells are chosen to hide as few cells as that needs:

1. *Protect*, top-down: relations with exactly one hidden cell are taken largest total first (a Land
   before its Regierungsbezirke, a year before its quarters), and each takes the cell that leaves the
   fewest relations with a single hidden cell behind — one that protects another such relation at the
   same time (a Regierungsbezirk total hidden anyway for its own year) before one that opens new ones —
   and among those the smallest value, a part before the total.
2. *Give back*: every secondary cell, largest value first, is shown again if each of its relations keeps
   none or at least two hidden cells without it (a Kreis hidden for its Regierungsbezirk before that
   total was hidden itself).
3. *Unpin*: two hidden cells per relation are not enough where relations chain — a Kreis's quarter less
   its January gives the February and March of its one municipality with cases then, and that
   municipality's quarter less those gives its January. ``pinned`` finds such chains (``_Links``); each
   pinning relation gets one more hidden cell (then step 1 again) until none is left.

The result depends only on the values, never on the order in which events arrived (every choice is
ordered by values and then by the cells' and relations' ``repr``), so a rebuild publishes exactly what
the incremental projection did. ``tests/unit/test_suppression_audit.py`` checks by linear programming on
random hierarchical tables that no hidden cell can be pinned to one value from the published ones.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from wegweiser.common.events.statistics import SuppressedReason

SUPPRESSED = "."

Cell = TypeVar("Cell", bound=Hashable)

Reason = Literal["primary", "secondary"]
"""Why a cell is hidden: too small itself, or hidden to protect another (small) cell."""

PUBLIC_REASONS: dict[Reason, SuppressedReason] = {"primary": "too_small", "secondary": "protects_other"}
"""The names every output gives the reasons (JSON, CSV, XLSX and the feed)."""

SCORED = 8
"""Candidates of a relation weighed by what hiding them does elsewhere (the smallest values); the rest are
larger and only taken when these are missing."""


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


@dataclass(frozen=True, slots=True)
class Suppression(Generic[Cell]):
    """The hidden cells of a table, by reason."""

    primary: set[Cell]
    secondary: set[Cell]

    @property
    def hidden(self) -> set[Cell]:
        return self.primary | self.secondary

    def reason(self, cell: Cell) -> Reason | None:
        if cell in self.primary:
            return "primary"
        return "secondary" if cell in self.secondary else None


def suppress(values: Mapping[Cell, int], relations: Relations[Cell], *, threshold: int) -> set[Cell]:
    """The cells to hide: primary ones, plus secondary ones until every relation is safe."""
    return suppression(values, relations, threshold=threshold).hidden


def suppression(
    values: Mapping[Cell, int], relations: Relations[Cell], *, threshold: int
) -> Suppression[Cell]:
    """Primary and secondary cells of a table. ``values`` holds the non-zero cells (absent cells are 0).

    Cost: about linear in the hidden cells times their relations (each relation with a single hidden cell
    is enumerated once, at most ``SCORED`` of its cells weighed).
    """
    state = _Pattern(values, relations)
    first = {c for c, v in values.items() if is_primary(v, threshold=threshold)}
    for cell in first:  # the order does not matter: only counts change, choices come later
        state.hide(cell)
    state.protect()
    state.give_back(first)
    state.unpin()
    return Suppression(first, state.hidden - first)


class _Pattern(Generic[Cell]):
    """The hidden cells, how many of them each relation holds, and the relations left with one."""

    def __init__(self, values: Mapping[Cell, int], relations: Relations[Cell]) -> None:
        self.values = values
        self.relations = relations
        self.hidden: set[Cell] = set()
        self.hidden_in: dict[Hashable, int] = {}
        self.pending: list[tuple[int, str, Hashable]] = []  # (-total, repr, relation): largest first
        self._of: dict[Cell, tuple[Hashable, ...]] = {}

    def of(self, cell: Cell) -> tuple[Hashable, ...]:
        found = self._of.get(cell)
        if found is None:
            found = self._of[cell] = tuple(self.relations.relations_of(cell))
        return found

    def hide(self, cell: Cell) -> None:
        self.hidden.add(cell)
        hidden_in = self.hidden_in
        for relation in self.of(cell):
            n = hidden_in.get(relation, 0) + 1
            hidden_in[relation] = n
            if n == 1:
                total, _ = self.relations.members(relation)
                heapq.heappush(self.pending, (-self.values.get(total, 0), repr(relation), relation))

    def protect(self) -> None:
        """Give every relation with a single hidden cell a second one, largest totals first."""
        while self.pending:
            _, _, relation = heapq.heappop(self.pending)
            if self.hidden_in[relation] == 1:
                chosen = self._second(relation)
                if chosen is not None:
                    self.hide(chosen)

    def unpin(self) -> None:
        """Hide one more cell in each relation that pins a hidden cell through a chain, until none does.

        The first and the last check take the whole table; the rounds between look only near the cells
        just hidden (adding unknowns cannot pin a cell that was free before, except the new ones)."""
        near: set[Cell] | None = None
        while True:
            links = _Links(self.hidden, self)
            if near is None:
                pins = links.close(self._pairs())
            else:
                within = self._around(near)
                pins = links.close([r for r in within if self.hidden_in.get(r) == 2], within)
            if not pins:
                if near is None:
                    return
                near = None  # the closing check of the whole table
                continue
            before = set(self.hidden)
            for relation in sorted(set(pins.values()), key=repr):
                chosen = self._nearest(relation)
                if chosen is not None:
                    self.hide(chosen)
            if len(self.hidden) == len(before):
                return  # nothing left to hide beside the pinned cells: only zeros (inconsistent input)
            self.protect()
            near = (self.hidden - before).union(*(links.cells_of(root) for root in pins))

    def _around(self, cells: set[Cell], hops: int = 4) -> set[Hashable]:
        """The relations reached from ``cells`` through at most ``hops`` relations and hidden cells."""
        found: set[Hashable] = set()
        frontier = cells
        for _ in range(hops):
            relations = {r for c in frontier for r in self.of(c)} - found
            found |= relations
            frontier = set()
            for relation in relations:
                total, parts = self.relations.members(relation)
                frontier.update(c for c in (total, *parts) if c in self.hidden)
        return found

    def _pairs(self) -> list[Hashable]:
        """The relations that tie exactly two hidden cells: where every chain starts."""
        return [r for r, n in self.hidden_in.items() if n == 2]

    def _nearest(self, relation: Hashable, limit: int = 4096) -> Cell | None:
        """A cell to hide in ``relation``, else in the nearest relation linked to it by hidden cells (the
        pinning relation may have nothing left to hide when all its non-zero cells are hidden)."""
        seen = {relation}
        queue = deque([relation])
        while queue and len(seen) <= limit:
            current = queue.popleft()
            chosen = self._second(current)
            if chosen is not None:
                return chosen
            total, parts = self.relations.members(current)
            for cell in (total, *parts):
                if cell in self.hidden:
                    for r in sorted(set(self.of(cell)) - seen, key=repr):
                        seen.add(r)
                        queue.append(r)
        return None

    def _second(self, relation: Hashable) -> Cell | None:
        """The cell that protects ``relation``'s hidden cell(s) at the least cost."""
        total, parts = self.relations.members(relation)
        values, hidden = self.values, self.hidden
        candidates = [(values.get(c, 0), 0, c) for c in parts if c not in hidden]
        if total not in hidden:
            candidates.append((values.get(total, 0), 1, total))
        ranked = sorted((v, t, repr(c), c) for v, t, c in candidates if v > 0)
        if not ranked:
            # Only zeros besides the hidden cell: the relation itself shows it is 0, which it cannot be
            # when hidden, so this happens only for inconsistent input (parts exceeding the total).
            return None
        best = min(ranked[:SCORED], key=lambda c: (self._opens(c[3], relation), c[:3]))
        return best[3]

    def _opens(self, cell: Cell, protected: Hashable) -> int:
        """Relations that hiding ``cell`` leaves with a single hidden cell, less those it protects."""
        score = 0
        hidden_in = self.hidden_in
        for relation in self.of(cell):
            if relation != protected:
                n = hidden_in.get(relation, 0)
                score += 1 if n == 0 else -1 if n == 1 else 0
        return score

    def give_back(self, first: set[Cell]) -> None:
        """Show a secondary cell again (largest first) where every relation of it stays protected."""
        values, hidden_in = self.values, self.hidden_in
        second = sorted((-values.get(c, 0), repr(c), c) for c in self.hidden - first)
        for _, _, cell in second:
            mine = self.of(cell)
            if all(hidden_in[r] != 2 for r in mine):
                self.hidden.discard(cell)
                for relation in mine:
                    hidden_in[relation] -= 1


class _Links(Generic[Cell]):
    """What the published cells tell about the hidden ones, as far as chains of two unknowns go.

    Every relation is an equation ``total - sum(parts) = published rest`` in its hidden cells. A relation
    with two hidden cells ties them (``x = ±y + c``); a union-find with signs merges such cells into
    classes, and each relation is reduced to the classes of its cells. A relation that reduces to one
    class pins that class (every cell of it can be computed); one that reduces to two classes with equal
    weights ties them in turn. Sound — every pinned cell it reports can be computed from the published
    ones — though not complete: eliminations that need three unknowns at once are not followed.
    """

    def __init__(self, hidden: set[Cell], pattern: _Pattern[Cell]) -> None:
        self.hidden = hidden
        self.parent: dict[Cell, Cell] = {}  # absent: its own root
        self.sign: dict[Cell, int] = {}  # cell = sign * parent (+ a constant)
        self.members: dict[Cell, list[Cell]] = {}  # of the roots that took others in
        self.pinned: dict[Cell, Hashable] = {}  # class root -> a relation that pins it
        self.pattern = pattern

    def find(self, cell: Cell) -> tuple[Cell, int]:
        sign = 1
        parent = self.parent
        while (up := parent.get(cell, cell)) != cell:
            sign *= self.sign[cell]
            cell = up
        return cell, sign

    def reduced(self, relation: Hashable) -> dict[Cell, int]:
        total, parts = self.pattern.relations.members(relation)
        weights: dict[Cell, int] = {}
        hidden, pinned = self.hidden, self.pinned
        for cell, coefficient in ((total, 1), *((p, -1) for p in parts)):
            if cell in hidden:
                root, sign = self.find(cell)
                if root not in pinned:
                    weights[root] = weights.get(root, 0) + coefficient * sign
        return {r: w for r, w in weights.items() if w}

    def close(
        self, relations: Iterable[Hashable], within: set[Hashable] | None = None
    ) -> dict[Cell, Hashable]:
        """Follow the relations (and those of every class that changes, ``within`` a set of relations
        if given: fewer equations can only find fewer pins) to the end; the pinned classes."""
        queue = deque(sorted(set(relations), key=repr))
        of = self.pattern.of
        while queue:
            relation = queue.popleft()
            weights = self.reduced(relation)
            if len(weights) == 1:
                (root,) = weights
                self.pinned[root] = relation
                changed = self.members.get(root, [root])
            elif len(weights) == 2:
                (a, wa), (b, wb) = sorted(weights.items(), key=lambda kv: len(self.members.get(kv[0], ())))
                if abs(wa) != abs(wb):
                    continue
                # wa * a + wb * b = c  ->  a = -(wb / wa) * b + c'
                self.parent[a], self.sign[a] = b, -wb // wa
                changed = self.members.pop(a, [a])
                self.members.setdefault(b, [b]).extend(changed)
            else:
                continue
            queue.extend(
                r for cell in changed for r in of(cell) if r != relation and (within is None or r in within)
            )
        return self.pinned

    def cells_of(self, root: Cell) -> list[Cell]:
        return self.members.get(root, [root])


def pinned(hidden: set[Cell], relations: Relations[Cell]) -> dict[Cell, Hashable]:
    """Hidden cells that chains of relations give away, each with the relation that pins it; for audits."""
    pattern = _Pattern({}, relations)
    for cell in hidden:
        pattern.hide(cell)
    pattern.pending.clear()
    links = _Links(hidden, pattern)
    roots = links.close(pattern._pairs() + [r for r, n in pattern.hidden_in.items() if n == 1])
    out: dict[Cell, Hashable] = {}
    for cell in hidden:
        root, _ = links.find(cell)
        if root in roots:
            out[cell] = roots[root]
    return out


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
