"""Statistical disclosure control for the community health diagnostic.

Releases (report, exports, dashboard) are protected by the **cell key
method** at the end of this module: every count is perturbed by a noise that
depends only on the persons it counts (:class:`Tally`, :class:`PTable`,
:class:`Protection`), tables are published with the rules on groups
(:func:`publish_table`: small groups and homogeneous groups withheld), and
means are rounded without intervals (:func:`round_mean`). docs/disclosure.md
gives the method, the measurements behind the choice and the guarantee.

The first half of the module is the earlier cell-suppression engine, kept
as the attacker and auditor of the test suite: threshold ``k`` (11 by
default; counts in ``1..k-1`` primary-suppressed), secondary suppression
(:func:`gate_table`, :func:`gate_linked`, :func:`gate_release`) and
:func:`audit`, which bounds every hidden cell by linear programming exactly
as an attacker would. It is no longer on the release path: it was reversible
across linked tables and releases, and slow.

Vocabulary used below: an *entry* is any published figure of a table (inner
cell, row total, column total, grand total); a *line* is one additive
relation between entries (``sum(parts) == total``): every row, every column,
the row of column totals and the column of row totals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from surveycore.errors import KioskError

__all__ = [
    "DEFAULT_K",
    "SUPPRESSED_LABEL",
    "TOTAL_LABEL",
    "AuditReport",
    "DisclosureError",
    "GatedTable",
    "audit",
    "audit_linked",
    "gate_counts",
    "gate_linked",
    "gate_mean",
    "gate_percentage",
    "gate_table",
    "is_primary",
    "primary_suppression",
    "suppressed_label",
]

DEFAULT_K = 11
"""Default minimum publishable person count."""

SUPPRESSED_LABEL = "< {k}"
"""Template of the string shown instead of a suppressed figure."""

TOTAL_LABEL = "Total"
"""Label of the margin row and column in :meth:`GatedTable.display`."""

# LP solutions are floating point; bounds closer than this to the threshold
# count as reaching it.  The constraint matrices of a single 2-D table are
# totally unimodular, so the true bounds are integers and 1e-6 is far below
# any meaningful difference.
_LP_TOLERANCE = 1e-6

Position = tuple[int, int]
"""Position of an entry in the *extended* table (see :class:`GatedTable`)."""


class DisclosureError(KioskError):
    """Raised when this module is called with invalid or inconsistent input.

    Part of the one error hierarchy, so a command line that meets it prints
    one coded line (DSC-001) and exits non-zero, never a traceback.
    """

    code = "DSC-001"


# --------------------------------------------------------------------------
# Scalar gates
# --------------------------------------------------------------------------


def _check_k(k: object) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise DisclosureError(f"k must be an integer >= 1, got {k!r}")
    return k


def _check_count(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DisclosureError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def suppressed_label(k: int = DEFAULT_K) -> str:
    """Return the text shown in place of a suppressed figure, e.g. ``"< 11"``."""
    return SUPPRESSED_LABEL.format(k=_check_k(k))


def is_primary(count: int, k: int = DEFAULT_K) -> bool:
    """Return True when a person count must be primary-suppressed (``1 <= count < k``)."""
    _check_k(k)
    _check_count(count, "count")
    return 1 <= count < k


def gate_percentage(numerator: int, denominator: int, k: int = DEFAULT_K) -> float | None:
    """Return ``100 * numerator / denominator`` if publishable, else None.

    Publishable means ``denominator >= k`` and ``numerator`` is 0 or ``>= k``:
    a small numerator is a small person count, and a small denominator makes
    every percentage a disguised small count.

    Raises:
        DisclosureError: if the arguments are not counts or
            ``numerator > denominator``.
    """
    _check_k(k)
    _check_count(numerator, "numerator")
    _check_count(denominator, "denominator")
    if numerator > denominator:
        raise DisclosureError(
            f"numerator ({numerator}) cannot exceed denominator ({denominator})"
        )
    if denominator < k or is_primary(numerator, k):
        return None
    return 100.0 * numerator / denominator


def gate_mean(values_count: int, mean: float, k: int = DEFAULT_K) -> float | None:
    """Return ``mean`` if it was computed over at least ``k`` contributors, else None.

    Raises:
        DisclosureError: if ``values_count`` is not a count, or if a
            publishable mean is not a finite number.
    """
    _check_k(k)
    _check_count(values_count, "values_count")
    if values_count < k:
        return None
    if isinstance(mean, bool) or not isinstance(mean, (int, float)) or not math.isfinite(mean):
        raise DisclosureError(f"mean must be a finite number, got {mean!r}")
    return float(mean)


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def _freeze_matrix(value: Any, name: str) -> tuple[tuple[Any, ...], ...]:
    try:
        return tuple(tuple(row) for row in value)
    except TypeError as exc:
        raise DisclosureError(f"{name} must be a sequence of sequences") from exc


@dataclass(frozen=True)
class GatedTable:
    """A count table together with its suppression pattern.

    A 2-D table has ``R`` rows (categories of ``row_var``) and ``C`` columns
    (categories of ``col_var``), plus row totals, column totals and a grand
    total.  A 1-D frequency table has ``col_var=None`` and a single column
    whose label is the name of the count; its row totals are the cells
    themselves and its only column total is the grand total.

    Entries are addressed by their position in the *extended* table:
    ``(r, c)`` for a cell, ``(r, C)`` for the total of row ``r``, ``(R, c)``
    for the total of column ``c`` and ``(R, C)`` for the grand total.  In a
    1-D table the cells are ``(r, 0)`` and the grand total is ``(R, 0)``.

    ``counts`` and the totals hold the true values: they are needed to audit
    the table but must never be rendered - use :meth:`display` or the
    accessors, which return None for suppressed entries.  They are left out
    of ``repr`` so that logging a table does not leak them.

    Build tables with :func:`gate_counts` or :func:`gate_table`; the
    constructor only checks that the table is well formed, not that it is
    safe to publish (that is :func:`audit`'s job).
    """

    row_var: str
    col_var: str | None
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...] = field(repr=False)
    suppressed: tuple[tuple[bool, ...], ...]
    row_totals: tuple[int, ...] = field(repr=False)
    row_totals_suppressed: tuple[bool, ...]
    col_totals: tuple[int, ...] = field(repr=False)
    col_totals_suppressed: tuple[bool, ...]
    grand_total: int = field(repr=False)
    grand_total_suppressed: bool
    k: int = DEFAULT_K

    def __post_init__(self) -> None:
        # Normalise to tuples so the frozen table is really immutable.
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("row_labels", tuple(self.row_labels))
        put("col_labels", tuple(self.col_labels))
        put("counts", _freeze_matrix(self.counts, "counts"))
        put("suppressed", _freeze_matrix(self.suppressed, "suppressed"))
        put("row_totals", tuple(self.row_totals))
        put("row_totals_suppressed", tuple(self.row_totals_suppressed))
        put("col_totals", tuple(self.col_totals))
        put("col_totals_suppressed", tuple(self.col_totals_suppressed))
        self._validate()

    def _validate(self) -> None:
        _check_k(self.k)
        if not isinstance(self.row_var, str) or not self.row_var:
            raise DisclosureError("row_var must be a non-empty string")
        if self.col_var is not None and (not isinstance(self.col_var, str) or not self.col_var):
            raise DisclosureError("col_var must be a non-empty string or None")
        if self.col_var == self.row_var:
            raise DisclosureError("row_var and col_var must differ")
        for name, labels in (("row_labels", self.row_labels), ("col_labels", self.col_labels)):
            if not all(isinstance(label, str) for label in labels):
                raise DisclosureError(f"{name} must be strings")
            if len(set(labels)) != len(labels):
                raise DisclosureError(f"{name} must be unique, got {list(labels)}")
            if TOTAL_LABEL in labels:
                raise DisclosureError(f"{TOTAL_LABEL!r} is reserved for margins ({name})")
        if self.row_var in self.col_labels:
            raise DisclosureError(f"column label {self.row_var!r} collides with row_var")
        n_rows, n_cols = len(self.row_labels), len(self.col_labels)
        if self.is_one_dimensional and n_cols != 1:
            raise DisclosureError("a 1-D table has exactly one column (the count)")
        for name, matrix in (("counts", self.counts), ("suppressed", self.suppressed)):
            if len(matrix) != n_rows or any(len(row) != n_cols for row in matrix):
                raise DisclosureError(f"{name} must have shape {n_rows}x{n_cols}")
        if len(self.row_totals) != n_rows or len(self.row_totals_suppressed) != n_rows:
            raise DisclosureError(f"row totals must have length {n_rows}")
        if len(self.col_totals) != n_cols or len(self.col_totals_suppressed) != n_cols:
            raise DisclosureError(f"column totals must have length {n_cols}")
        for row in self.counts:
            for value in row:
                _check_count(value, "every count")
        flags = [*(f for row in self.suppressed for f in row), *self.row_totals_suppressed,
                 *self.col_totals_suppressed, self.grand_total_suppressed]
        if not all(isinstance(f, bool) for f in flags):
            raise DisclosureError("suppression flags must be booleans")
        _check_count(self.grand_total, "grand_total")
        if list(self.row_totals) != [sum(row) for row in self.counts]:
            raise DisclosureError("row_totals do not match the row sums of counts")
        if list(self.col_totals) != [sum(row[c] for row in self.counts) for c in range(n_cols)]:
            raise DisclosureError("col_totals do not match the column sums of counts")
        if self.grand_total != sum(self.row_totals):
            raise DisclosureError("grand_total does not match the sum of counts")
        if self.is_one_dimensional:
            # In a 1-D table the row totals *are* the cells and the single
            # column total *is* the grand total: their flags must agree.
            if list(self.row_totals_suppressed) != [row[0] for row in self.suppressed]:
                raise DisclosureError("1-D table: row total flags must equal cell flags")
            if self.col_totals_suppressed != (self.grand_total_suppressed,):
                raise DisclosureError("1-D table: column total flag must equal grand total flag")

    # -- shape and accessors ------------------------------------------------

    @property
    def is_one_dimensional(self) -> bool:
        """True for a frequency table (no column variable)."""
        return self.col_var is None

    @property
    def n_rows(self) -> int:
        """Number of row categories (margins excluded)."""
        return len(self.row_labels)

    @property
    def n_cols(self) -> int:
        """Number of column categories (margins excluded)."""
        return len(self.col_labels)

    def cell(self, r: int, c: int) -> int | None:
        """Published value of cell ``(r, c)``, None when suppressed."""
        return None if self.suppressed[r][c] else self.counts[r][c]

    def row_total(self, r: int) -> int | None:
        """Published total of row ``r``, None when suppressed."""
        return None if self.row_totals_suppressed[r] else self.row_totals[r]

    def col_total(self, c: int) -> int | None:
        """Published total of column ``c``, None when suppressed."""
        return None if self.col_totals_suppressed[c] else self.col_totals[c]

    def total(self) -> int | None:
        """Published grand total, None when suppressed."""
        return None if self.grand_total_suppressed else self.grand_total

    # -- rendering -----------------------------------------------------------

    def display(self) -> pl.DataFrame:
        """Render the table as strings, suppressed entries as ``"< k"``.

        The first column (named after ``row_var``) holds the row labels and a
        final ``"Total"`` row; a 2-D table also gets a ``"Total"`` column.

        Raises:
            DisclosureError: if the table would show a count in ``1..k-1``
                (a hand-built table that skipped primary suppression).
        """
        label = suppressed_label(self.k)
        unsafe = [
            self._entry_name(pos)
            for pos, value, is_suppressed, _ in self._entries()
            if not is_suppressed and 1 <= value < self.k
        ]
        if unsafe:
            raise DisclosureError(f"refusing to display counts below k={self.k}: {unsafe}")

        def text(value: int, is_suppressed: bool) -> str:
            return label if is_suppressed else str(value)

        data: dict[str, list[str]] = {self.row_var: [*self.row_labels, TOTAL_LABEL]}
        for c, col_label in enumerate(self.col_labels):
            data[col_label] = [
                *(text(self.counts[r][c], self.suppressed[r][c]) for r in range(self.n_rows)),
                text(self.col_totals[c], self.col_totals_suppressed[c]),
            ]
        if not self.is_one_dimensional:
            data[TOTAL_LABEL] = [
                *(text(t, s) for t, s in zip(self.row_totals, self.row_totals_suppressed)),
                text(self.grand_total, self.grand_total_suppressed),
            ]
        return pl.DataFrame(data, schema={name: pl.String for name in data})

    # -- structure used by the suppression engine ------------------------------

    def _entries(self) -> list[tuple[Position, int, bool, bool]]:
        """Every distinct entry as ``(position, true value, suppressed, is_margin)``."""
        n_rows, n_cols = self.n_rows, self.n_cols
        out = [
            ((r, c), self.counts[r][c], self.suppressed[r][c], False)
            for r in range(n_rows)
            for c in range(n_cols)
        ]
        if self.is_one_dimensional:
            out.append(((n_rows, 0), self.grand_total, self.grand_total_suppressed, True))
            return out
        out += [((r, n_cols), self.row_totals[r], self.row_totals_suppressed[r], True)
                for r in range(n_rows)]
        out += [((n_rows, c), self.col_totals[c], self.col_totals_suppressed[c], True)
                for c in range(n_cols)]
        out.append(((n_rows, n_cols), self.grand_total, self.grand_total_suppressed, True))
        return out

    def _lines(self) -> list[tuple[tuple[Position, ...], Position]]:
        """Every additive relation as ``(parts, total)``."""
        n_rows, n_cols = self.n_rows, self.n_cols
        if self.is_one_dimensional:
            return [(tuple((r, 0) for r in range(n_rows)), (n_rows, 0))]
        lines = [(tuple((r, c) for c in range(n_cols)), (r, n_cols)) for r in range(n_rows)]
        lines += [(tuple((r, c) for r in range(n_rows)), (n_rows, c)) for c in range(n_cols)]
        lines.append((tuple((n_rows, c) for c in range(n_cols)), (n_rows, n_cols)))
        lines.append((tuple((r, n_cols) for r in range(n_rows)), (n_rows, n_cols)))
        return lines

    def _entry_name(self, pos: Position) -> str:
        r, c = pos
        n_rows, n_cols = self.n_rows, self.n_cols
        if self.is_one_dimensional:
            if r == n_rows:
                return "grand total"
            return f"cell {self.row_var}={self.row_labels[r]!r}"
        if r == n_rows and c == n_cols:
            return "grand total"
        if c == n_cols:
            return f"row total {self.row_var}={self.row_labels[r]!r}"
        if r == n_rows:
            return f"column total {self.col_var}={self.col_labels[c]!r}"
        return f"cell ({self.row_var}={self.row_labels[r]!r}, {self.col_var}={self.col_labels[c]!r})"

    def _link_key(self, pos: Position) -> Hashable:
        """Identity of an entry across the tables of one release.

        A row total of a ``row_var`` x anything table is the same figure as
        the cell of the 1-D ``row_var`` table, and cells are matched whatever
        the orientation (age x sex == sex x age).
        """
        r, c = pos
        n_rows, n_cols = self.n_rows, self.n_cols
        if self.is_one_dimensional:
            return ("grand",) if r == n_rows else ("margin", self.row_var, self.row_labels[r])
        if r == n_rows and c == n_cols:
            return ("grand",)
        if c == n_cols:
            return ("margin", self.row_var, self.row_labels[r])
        if r == n_rows:
            return ("margin", self.col_var, self.col_labels[c])
        return ("cell", frozenset({(self.row_var, self.row_labels[r]),
                                   (self.col_var, self.col_labels[c])}))

    def _with_mask(self, is_suppressed: Callable[[Position], bool]) -> GatedTable:
        n_rows, n_cols = self.n_rows, self.n_cols
        cells = tuple(tuple(is_suppressed((r, c)) for c in range(n_cols)) for r in range(n_rows))
        if self.is_one_dimensional:
            grand = is_suppressed((n_rows, 0))
            row_flags = tuple(row[0] for row in cells)
            col_flags: tuple[bool, ...] = (grand,)
        else:
            grand = is_suppressed((n_rows, n_cols))
            row_flags = tuple(is_suppressed((r, n_cols)) for r in range(n_rows))
            col_flags = tuple(is_suppressed((n_rows, c)) for c in range(n_cols))
        return GatedTable(
            row_var=self.row_var,
            col_var=self.col_var,
            row_labels=self.row_labels,
            col_labels=self.col_labels,
            counts=self.counts,
            suppressed=cells,
            row_totals=self.row_totals,
            row_totals_suppressed=row_flags,
            col_totals=self.col_totals,
            col_totals_suppressed=col_flags,
            grand_total=self.grand_total,
            grand_total_suppressed=grand,
            k=self.k,
        )


def _raw_table(
    counts: Sequence[Sequence[int]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    row_var: str,
    col_var: str | None,
    k: int,
) -> GatedTable:
    """Build a table with nothing suppressed (validated, never returned to callers)."""
    matrix = _freeze_matrix(counts, "counts")
    n_cols = len(col_labels)
    if len(matrix) != len(row_labels) or any(len(row) != n_cols for row in matrix):
        raise DisclosureError(f"counts must have shape {len(row_labels)}x{n_cols}")
    for row in matrix:
        for value in row:
            _check_count(value, "every count")
    row_totals = tuple(sum(row) for row in matrix)
    col_totals = tuple(sum(row[c] for row in matrix) for c in range(n_cols))
    return GatedTable(
        row_var=row_var,
        col_var=col_var,
        row_labels=tuple(row_labels),
        col_labels=tuple(col_labels),
        counts=matrix,
        suppressed=tuple(tuple(False for _ in row) for row in matrix),
        row_totals=row_totals,
        row_totals_suppressed=tuple(False for _ in row_totals),
        col_totals=col_totals,
        col_totals_suppressed=tuple(False for _ in col_totals),
        grand_total=sum(row_totals),
        grand_total_suppressed=False,
        k=k,
    )


# --------------------------------------------------------------------------
# Suppression engine (works on any set of entries linked by additive lines,
# so that one table and a whole release of linked tables share the code)
# --------------------------------------------------------------------------


@dataclass
class _System:
    values: list[int]
    is_margin: list[bool]
    lines: list[tuple[tuple[int, ...], int]]
    entry_lines: list[list[int]]
    # per table: extended position -> entry index
    index: list[dict[Position, int]]
    # per table: extended position -> human readable name
    names: list[dict[Position, str]]
    initially_suppressed: list[bool]

    def line_members(self, line: int) -> tuple[int, ...]:
        parts, total = self.lines[line]
        return (*parts, total)


def _mask(suppressed: Sequence[bool], where: Mapping[Position, int]) -> Callable[[Position], bool]:
    """Whether a position of one table is suppressed, given the suppression
    of the linked system and where the table's positions sit in it."""
    return lambda pos: suppressed[where[pos]]


def _build_system(tables: Sequence[GatedTable], *, link: bool) -> _System:
    """Merge the entries of ``tables``; with ``link`` the same figure is one entry."""
    keys = [{pos: table._link_key(pos) if link else (t, pos) for pos, _, _, _ in table._entries()}
            for t, table in enumerate(tables)]
    return _merge_entries(tables, keys, lambda table, t, pos, key: (
        f"linked tables disagree on {table._entry_name(pos)} "
        f"(table {t}); only tables describing the same population can be linked"))


def _linprog() -> Callable[..., Any]:
    try:
        from scipy.optimize import linprog
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DisclosureError(
            "scipy is required to gate and audit count tables (scipy.optimize.linprog)"
        ) from exc
    return linprog


class _AttackerModel:
    """What an attacker can infer about the hidden entries from the published ones.

    Unknowns are the suppressed entries, each >= 0; every line gives one
    equation whose right-hand side only uses published values.  Bounds are
    obtained by minimising and maximising each unknown.  For one 2-D table
    the constraint matrix is a network matrix (totally unimodular), so these
    LP bounds equal the integer bounds an attacker could reach.
    """

    def __init__(self, system: _System, suppressed: Sequence[bool]) -> None:
        import numpy as np

        self._linprog = _linprog()
        self._var = {e: i for i, e in enumerate(e for e, s in enumerate(suppressed) if s)}
        rows: list[dict[int, float]] = []
        rhs: list[float] = []
        for parts, total in system.lines:
            coefficients: dict[int, float] = {}
            constant = 0.0
            for e, sign in (*((p, 1.0) for p in parts), (total, -1.0)):
                if e in self._var:
                    coefficients[self._var[e]] = coefficients.get(self._var[e], 0.0) + sign
                else:
                    constant -= sign * system.values[e]
            if coefficients:
                rows.append(coefficients)
                rhs.append(constant)
        n = len(self._var)
        self._a_eq = np.zeros((len(rows), n))
        for i, coefficients in enumerate(rows):
            for j, coefficient in coefficients.items():
                self._a_eq[i, j] = coefficient
        self._b_eq = np.asarray(rhs)
        self._np = np

    def _optimum(self, e: int, sense: float) -> float:
        objective = self._np.zeros(len(self._var))
        objective[self._var[e]] = sense
        has_rows = self._a_eq.shape[0] > 0
        result = self._linprog(
            objective,
            A_eq=self._a_eq if has_rows else None,
            b_eq=self._b_eq if has_rows else None,
            bounds=(0, None),
            method="highs",
        )
        if result.status == 3:  # unbounded: only possible when maximising
            return math.inf if sense < 0 else -math.inf
        if result.status != 0:
            raise DisclosureError(
                f"published figures are inconsistent (LP status {result.status}: {result.message})"
            )
        value = sense * float(result.fun)
        nearest = round(value)
        return float(nearest) if abs(value - nearest) < _LP_TOLERANCE else value

    def lower(self, e: int) -> float:
        return self._optimum(e, 1.0)

    def upper(self, e: int) -> float:
        return self._optimum(e, -1.0)


def _is_protected(lo: float, hi: float, k: int) -> bool:
    """An attacker must not be able to tell 'empty' from 'publishable count'."""
    return lo <= _LP_TOLERANCE and hi >= k - _LP_TOLERANCE


def _complement_rank(system: _System, suppressed: Sequence[bool], e: int) -> tuple[int, ...]:
    """Sort key of a candidate complement: the smaller, the better.

    Inner cells before margins (totals are the most used figures), then
    cells that open no new under-protected line, then cells that also fix
    another line with a single suppression, then the smallest value (least
    information lost), then position for determinism.
    """
    counts = [sum(suppressed[m] for m in system.line_members(li)) for li in system.entry_lines[e]]
    new_problems = sum(1 for n in counts if n == 0)
    fixes = sum(1 for n in counts if n == 1)
    return (int(system.is_margin[e]), new_problems, -fixes, system.values[e], e)


def _publishable_candidates(
    system: _System, suppressed: Sequence[bool], lines: Sequence[int]
) -> list[int]:
    # Zeros are never complements: structural zeros are known to an attacker
    # anyway, so hiding them protects nothing.
    return sorted({
        e
        for li in lines
        for e in system.line_members(li)
        if not suppressed[e] and system.values[e] > 0
    })


def _apply_line_rule(system: _System, suppressed: list[bool]) -> None:
    """Until stable: no line may contain exactly one suppressed entry.

    A lone hidden entry in a line equals its published total minus the
    published parts, so a complement is hidden in that line.
    """
    changed = True
    while changed:
        changed = False
        for li in range(len(system.lines)):
            if sum(suppressed[e] for e in system.line_members(li)) != 1:
                continue
            candidates = _publishable_candidates(system, suppressed, [li])
            if not candidates:
                # Impossible for consistent data: a lone non-zero hidden entry
                # forces another non-zero entry in its line.
                raise DisclosureError("inconsistent table: no complement available")
            best = min(candidates, key=lambda e: _complement_rank(system, suppressed, e))
            suppressed[best] = True
            changed = True


def _escalate(system: _System, suppressed: list[bool], failing: int) -> None:
    """Hide one more entry to widen the feasible interval of ``failing``.

    The line rule guarantees two hidden entries per line but not that the
    hidden complements are large enough to mask a swing of ``k``; an extra
    complement next to the exposed entry opens another path for that swing.
    """
    candidates = _publishable_candidates(system, suppressed, system.entry_lines[failing])
    if not candidates:
        touched = {li for e, s in enumerate(suppressed) if s for li in system.entry_lines[e]}
        candidates = _publishable_candidates(system, suppressed, sorted(touched))
    if not candidates:
        candidates = [e for e, v in enumerate(system.values) if v > 0 and not suppressed[e]]
    if not candidates:
        raise DisclosureError("cannot protect the table: every non-zero figure is already hidden")
    suppressed[min(candidates, key=lambda e: _complement_rank(system, suppressed, e))] = True


def _protect(system: _System, k: int) -> list[bool]:
    """Primary + secondary suppression of ``system``; returns the final mask."""
    suppressed = list(system.initially_suppressed)
    primaries = [e for e, v in enumerate(system.values) if 1 <= v < k]
    for e in primaries:
        suppressed[e] = True
    # Hiding more entries only relaxes the attacker's constraints, so an entry
    # found protected stays protected: no need to re-check it.
    protected: set[int] = set()
    while True:
        _apply_line_rule(system, suppressed)
        model = _AttackerModel(system, suppressed)
        failing = None
        for e in primaries:
            if e in protected:
                continue
            if _is_protected(model.lower(e), model.upper(e), k):
                protected.add(e)
            else:
                failing = e
                break
        if failing is None:
            return suppressed
        _escalate(system, suppressed, failing)


def _check_same_k(tables: Sequence[GatedTable]) -> int:
    ks = {table.k for table in tables}
    if len(ks) != 1:
        raise DisclosureError(f"tables of one release must share the same k, got {sorted(ks)}")
    return ks.pop()


def _gate(table: GatedTable) -> GatedTable:
    system = _build_system([table], link=False)
    suppressed = _protect(system, table.k)
    return table._with_mask(lambda pos: suppressed[system.index[0][pos]])


# --------------------------------------------------------------------------
# Public table gates
# --------------------------------------------------------------------------


def gate_table(
    counts: Sequence[Sequence[int]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    row_var: str = "row",
    col_var: str = "column",
    k: int = DEFAULT_K,
) -> GatedTable:
    """Gate a 2-D count table given in wide form (``counts[r][c]``).

    Applies primary suppression (cells and margins in ``1..k-1``) and
    secondary suppression until :func:`audit` passes.  Margins are computed
    from ``counts``.

    Raises:
        DisclosureError: on malformed input (shape, labels, negative counts).
    """
    _check_k(k)
    return _gate(_raw_table(counts, row_labels, col_labels, row_var=row_var, col_var=col_var, k=k))


def _category_order(series: pl.Series) -> list[Any]:
    if series.null_count():
        raise DisclosureError(
            f"column {series.name!r} contains nulls; give missing answers an explicit category"
        )
    dtype = series.dtype
    if isinstance(dtype, pl.Enum):
        # The Enum lists the full domain: absent categories are real zeros.
        return list(dtype.categories.to_list())
    return list(series.unique(maintain_order=True).to_list())


def gate_counts(
    df: pl.DataFrame,
    row: str,
    col: str | None,
    count: str = "n",
    k: int = DEFAULT_K,
) -> GatedTable:
    """Gate a count table given in long form.

    ``df`` holds one row per category (1-D, ``col=None``) or per ``(row,
    col)`` category pair (2-D) with the person count in ``count``.  Pairs
    absent from ``df`` count as 0.  Categories keep their order of first
    appearance, or the declared order for ``pl.Enum`` columns (which also
    brings in categories with no row as zeros).  An empty frame gives a table
    whose only figure is a total of 0.

    A 1-D table gets primary suppression, its total is suppressed when in
    ``1..k-1``, and a lone suppressed cell next to a published total gets a
    complement (the next smallest non-zero cell).  A 2-D table additionally
    gets margins and full secondary suppression.  Either way the result
    passes :func:`audit`.

    Raises:
        DisclosureError: on missing columns, nulls, non-integer or negative
            counts, or duplicate category pairs.
    """
    _check_k(k)
    if not isinstance(df, pl.DataFrame):
        raise DisclosureError(f"df must be a polars DataFrame, got {type(df).__name__}")
    wanted = [row, count] if col is None else [row, col, count]
    if len(set(wanted)) != len(wanted):
        raise DisclosureError(f"row, col and count must be distinct columns, got {wanted}")
    missing = [name for name in wanted if name not in df.columns]
    if missing:
        raise DisclosureError(f"missing columns {missing}; available: {df.columns}")
    counts_series = df.get_column(count)
    # An empty frame built from empty lists has dtype Null: nothing to check.
    untyped_empty = df.height == 0 and counts_series.dtype == pl.Null
    if not (counts_series.dtype.is_integer() or untyped_empty):
        raise DisclosureError(f"count column {count!r} must be integer, got {counts_series.dtype}")
    if counts_series.null_count():
        raise DisclosureError(f"count column {count!r} contains nulls")

    row_categories = _category_order(df.get_column(row))
    col_categories = [None] if col is None else _category_order(df.get_column(col))
    row_pos = {v: i for i, v in enumerate(row_categories)}
    col_pos = {v: i for i, v in enumerate(col_categories)}
    matrix = [[0] * len(col_categories) for _ in row_categories]
    seen: set[tuple[int, int]] = set()
    columns = [df.get_column(row).to_list(),
               [None] * df.height if col is None else df.get_column(col).to_list(),
               counts_series.to_list()]
    for row_value, col_value, n in zip(*columns):
        if n < 0:
            raise DisclosureError(f"negative count {n} for {row_value!r}, {col_value!r}")
        cell = (row_pos[row_value], col_pos[col_value])
        if cell in seen:
            what = repr(row_value) if col is None else f"({row_value!r}, {col_value!r})"
            raise DisclosureError(f"duplicate category {what}: aggregate counts before gating")
        seen.add(cell)
        matrix[cell[0]][cell[1]] = int(n)

    row_labels = [str(v) for v in row_categories]
    if col is None:
        col_labels = [count]
    else:
        col_labels = [str(v) for v in col_categories]
    raw = _raw_table(matrix, row_labels, col_labels, row_var=row, col_var=col, k=k)
    return _gate(raw)


def primary_suppression(table: GatedTable) -> GatedTable:
    """Return ``table`` with *only* primary suppression (entries in ``1..k-1``).

    This is NOT safe to publish: hidden cells can usually be recomputed from
    the margins.  It exists to show, with :func:`audit`, why secondary
    suppression is needed.
    """
    return table._with_mask(lambda pos: _value_at(table, pos) in range(1, table.k))


def _value_at(table: GatedTable, pos: Position) -> int:
    for entry_pos, value, _, _ in table._entries():
        if entry_pos == pos:
            return value
    raise DisclosureError(f"no entry at {pos}")  # pragma: no cover - internal misuse


# --------------------------------------------------------------------------
# Audit
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditReport:
    """Result of :func:`audit`.

    Attributes:
        ok: True when every primary-suppressed entry is protected.
        intervals: for every suppressed entry (extended position, see
            :class:`GatedTable`), the ``(lower, upper)`` bounds an attacker
            can derive from the published figures; ``upper`` may be ``inf``.
        failures: one message per exposed entry (empty when ``ok``).
    """

    ok: bool
    intervals: dict[Position, tuple[float, float]]
    failures: list[str]


def audit_linked(tables: Sequence[GatedTable]) -> list[AuditReport]:
    """Audit the tables of one release *jointly*, one report per table.

    Figures shared between tables (the same cell, the same margin, the grand
    total) are one unknown for the attacker, so a pattern that is safe table
    by table can still be broken by combining tables.  See :func:`audit` for
    the criterion.

    Raises:
        DisclosureError: if tables disagree on a shared figure or use
            different ``k``.
    """
    if not tables:
        return []
    k = _check_same_k(tables)
    return _audit_system(tables, _build_system(tables, link=True), k)


def _audit_system(tables: Sequence[GatedTable], system: _System, k: int) -> list[AuditReport]:
    """Bound every hidden figure of ``system`` jointly; one report per table."""
    # The attacker sees a figure as hidden only if no table publishes it.
    hidden = [True] * len(system.values)
    for t, table in enumerate(tables):
        for pos, _, is_suppressed, _ in table._entries():
            if not is_suppressed:
                hidden[system.index[t][pos]] = False
    model = _AttackerModel(system, hidden)
    bounds: dict[int, tuple[float, float]] = {}
    reports = []
    for t, table in enumerate(tables):
        intervals: dict[Position, tuple[float, float]] = {}
        failures: list[str] = []
        for pos, value, is_suppressed, _ in table._entries():
            e = system.index[t][pos]
            name = system.names[t][pos]
            if not is_suppressed:
                if 1 <= value < k:
                    failures.append(f"{name} is published although it is below k={k}")
                continue
            if not hidden[e]:
                failures.append(f"{name} is suppressed here but published in another table")
                continue
            if e not in bounds:
                bounds[e] = (model.lower(e), model.upper(e))
            lo, hi = bounds[e]
            intervals[pos] = (lo, hi)
            if 1 <= value < k and not _is_protected(lo, hi, k):
                failures.append(
                    f"{name}: published figures bound it to [{lo:g}, {hi:g}], "
                    f"which does not cover [0, {k}]"
                )
        reports.append(AuditReport(ok=not failures, intervals=intervals, failures=failures))
    return reports


def audit(table: GatedTable) -> AuditReport:
    """Bound every suppressed entry of ``table`` as an attacker would.

    The attacker knows the published cells and margins and that every count
    is >= 0; suppressed margins are unknowns tied to their cells by the sum
    constraints.  Each suppressed entry is minimised and maximised with
    ``scipy.optimize.linprog``.  A primary-suppressed entry (true value in
    ``1..k-1``) is protected when its interval reaches both 0 and ``k``:
    the attacker cannot tell an empty cell from a publishable one.  Only the
    published values (plus the mask) enter the constraints; the true values
    are used solely to know which entries are primary.

    Returns:
        An :class:`AuditReport`; ``ok`` is False when an entry is exposed,
        with one message per exposed entry in ``failures``.
    """
    return audit_linked([table])[0]


def gate_linked(tables: Sequence[GatedTable]) -> list[GatedTable]:
    """Make the suppression patterns of one release consistent and jointly safe.

    A figure hidden in one table is hidden in every table that shows it
    (same cell in either orientation, same margin - e.g. the row total of an
    age x sex table and the cell of the 1-D age table - or the grand total),
    then secondary suppression is re-run on the combined system until the
    joint :func:`audit_linked` passes.  All tables must describe the same
    population and share ``k``.

    Raises:
        DisclosureError: if tables disagree on a shared figure or use
            different ``k``.
    """
    if not tables:
        return []
    k = _check_same_k(tables)
    system = _build_system(tables, link=True)
    suppressed = _protect(system, k)
    return [
        table._with_mask(_mask(suppressed, system.index[t]))
        for t, table in enumerate(tables)
    ]


# --------------------------------------------------------------------------
# Releases made of several groups of linked tables, with caller-given keys
# --------------------------------------------------------------------------

KeyMap = dict[Position, Hashable]
"""Identity of each entry of a table (extended position -> key)."""


def link_keys(table: GatedTable) -> KeyMap:
    """The default identities used by :func:`gate_linked` (see ``_link_key``)."""
    return {pos: table._link_key(pos) for pos, _, _, _ in table._entries()}


def _build_system_keyed(tables: Sequence[GatedTable], keys: Sequence[KeyMap]) -> _System:
    """Like ``_build_system(link=True)`` with the caller's entry identities.

    Labels alone cannot say that the total of a table over the persons who
    saw a question is the same figure as the "saw it" cell of another table
    over the whole population; semantic keys can.
    """
    return _merge_entries(tables, keys, lambda table, t, pos, key: (
        f"linked tables disagree on {table._entry_name(pos)} (table {t}, key {key!r})"))


def _merge_entries(tables: Sequence[GatedTable], keys: Sequence[Mapping[Position, Hashable]],
                   disagreement: Callable[[GatedTable, int, Position, Hashable], str]) -> _System:
    """One entry per distinct key across ``tables``, and the sum lines over
    them; a key with two different values raises ``disagreement(...)``."""
    values: list[int] = []
    is_margin: list[bool] = []
    suppressed: list[bool] = []
    index_of: dict[Hashable, int] = {}
    index: list[dict[Position, int]] = []
    names: list[dict[Position, str]] = []
    for t, table in enumerate(tables):
        table_index: dict[Position, int] = {}
        table_names: dict[Position, str] = {}
        for pos, value, is_suppressed, margin in table._entries():
            key = keys[t][pos]
            e = index_of.get(key)
            if e is None:
                e = index_of[key] = len(values)
                values.append(value)
                is_margin.append(margin)
                suppressed.append(is_suppressed)
            elif values[e] != value:
                raise DisclosureError(disagreement(table, t, pos, key))
            else:
                # A figure is a margin if any table presents it as one.
                is_margin[e] = is_margin[e] or margin
                suppressed[e] = suppressed[e] or is_suppressed
            table_index[pos] = e
            table_names[pos] = table._entry_name(pos)
        index.append(table_index)
        names.append(table_names)
    lines: list[tuple[tuple[int, ...], int]] = []
    seen: set[tuple[tuple[int, ...], int]] = set()
    for t, table in enumerate(tables):
        for parts, total in table._lines():
            line = (tuple(index[t][p] for p in parts), index[t][total])
            signature = (tuple(sorted(line[0])), line[1])
            if signature not in seen:  # e.g. the 1-D table repeating a margin line
                seen.add(signature)
                lines.append(line)
    entry_lines: list[list[int]] = [[] for _ in values]
    for li, (members, whole) in enumerate(lines):
        for e in (*members, whole):
            entry_lines[e].append(li)
    return _System(values, is_margin, lines, entry_lines, index, names, suppressed)


def _check_keys(tables: Sequence[GatedTable], keys: Sequence[KeyMap] | None) -> list[KeyMap]:
    if keys is None:
        return [link_keys(t) for t in tables]
    if len(keys) != len(tables):
        raise DisclosureError("one key map per table is needed")
    for table, key_map in zip(tables, keys):
        missing = [pos for pos, _, _, _ in table._entries() if pos not in key_map]
        if missing:
            raise DisclosureError(f"key map lacks entries {missing[:3]} of a {table.row_var} table")
    return list(keys)


def gate_linked_keyed(tables: Sequence[GatedTable], keys: Sequence[KeyMap] | None = None) -> list[GatedTable]:
    """:func:`gate_linked` where ``keys`` says which entries are the same figure.

    Entries already hidden in the input tables stay hidden.
    """
    if not tables:
        return []
    k = _check_same_k(tables)
    system = _build_system_keyed(tables, _check_keys(tables, keys))
    suppressed = _protect(system, k)
    return [table._with_mask(_mask(suppressed, system.index[t]))
            for t, table in enumerate(tables)]


def audit_linked_keyed(tables: Sequence[GatedTable], keys: Sequence[KeyMap] | None = None) -> list[AuditReport]:
    """:func:`audit_linked` with caller-given entry identities (see :func:`gate_linked_keyed`)."""
    if not tables:
        return []
    k = _check_same_k(tables)
    return _audit_system(tables, _build_system_keyed(tables, _check_keys(tables, keys)), k)


def _force(table: GatedTable, key_map: KeyMap, forced: set[tuple[Hashable, int]]) -> GatedTable:
    """``table`` with every entry whose (key, value) is in ``forced`` hidden."""
    state = {pos: (value, s) for pos, value, s, _ in table._entries()}
    return table._with_mask(lambda pos: state[pos][1] or (key_map[pos], state[pos][0]) in forced)


def gate_release(groups: Sequence[Sequence[GatedTable]],
                 keys: Sequence[Sequence[KeyMap]] | None = None) -> list[list[GatedTable]]:
    """Gate a whole release made of several groups of linked tables.

    Each group (a cross-tab and its 1-D margins, say) is gated with
    :func:`gate_linked_keyed`.  Groups also share figures - the total of
    persons who saw a question is in every cross-tab of that question - so
    a figure hidden in one group is then hidden in every group that shows
    the same figure (same key and same value), and the groups that published
    it are gated again until no group publishes what another hides.  Hiding
    more only adds constraints that are already satisfied, so this ends.

    ``keys`` gives, per group and table, the identity of every entry
    (default: :func:`link_keys`, identities from labels).
    """
    if not groups:
        return []
    every_table = [t for group in groups for t in group]
    if every_table:
        _check_same_k(every_table)
    key_maps = [_check_keys(group, None if keys is None else keys[g]) for g, group in enumerate(groups)]

    def figures(tables: Sequence[GatedTable], maps: Sequence[KeyMap], hidden: bool) -> set[tuple[Hashable, int]]:
        return {(m[pos], value) for t, m in zip(tables, maps)
                for pos, value, is_suppressed, _ in t._entries() if is_suppressed == hidden}

    entries = [figures(group, maps, False) | figures(group, maps, True) for group, maps in zip(groups, key_maps)]
    out = [gate_linked_keyed(group, maps) for group, maps in zip(groups, key_maps)]
    forced: set[tuple[Hashable, int]] = set()
    while True:
        for g, group in enumerate(groups):
            # Re-gate only a group that publishes a figure hidden elsewhere.
            if forced & figures(out[g], key_maps[g], False):
                relevant = forced & entries[g]
                out[g] = gate_linked_keyed([_force(t, m, relevant) for t, m in zip(group, key_maps[g])],
                                           key_maps[g])
        hidden = set().union(*(figures(o, m, True) for o, m in zip(out, key_maps)))
        if hidden <= forced:
            return out
        forced |= hidden


def release_inconsistencies(groups: Sequence[Sequence[GatedTable]],
                            keys: Sequence[Sequence[KeyMap]] | None = None) -> list[str]:
    """Figures (same key and value) hidden in one table but published in another.

    An empty list means the release is consistent; with
    :func:`audit_linked_keyed` on every group this is the release audit.
    """
    published: dict[tuple[Hashable, int], str] = {}
    hidden: dict[tuple[Hashable, int], str] = {}
    for g, group in enumerate(groups):
        maps = _check_keys(group, None if keys is None else keys[g])
        for table, m in zip(group, maps):
            for pos, value, is_suppressed, _ in table._entries():
                target = hidden if is_suppressed else published
                target.setdefault((m[pos], value), table._entry_name(pos))
    return [f"{name} is hidden in one table and published in another"
            for key, name in hidden.items() if key in published]


def gate_group_means(
    counts: Sequence[int], means: Sequence[float | None], k: int = DEFAULT_K
) -> list[float | None]:
    """Gate the means of the groups of one breakdown, published with the overall mean.

    A group mean needs ``>= k`` contributors (:func:`gate_mean`).  When exactly
    one group with contributors is hidden, the overall mean and the other
    groups' means and sizes would give its sum back, so the mean of the next
    smallest group with contributors is hidden as well (secondary
    suppression for means).

    Args:
        counts: contributors per group.
        means: mean per group (None where there are no contributors).

    Returns:
        The publishable mean per group, None where hidden.
    """
    _check_k(k)
    if len(counts) != len(means):
        raise DisclosureError("counts and means must have the same length")
    out = [None if m is None else gate_mean(n, m, k) for n, m in zip(counts, means)]
    hidden = [i for i, (n, m) in enumerate(zip(counts, out)) if n > 0 and m is None]
    if len(hidden) == 1:
        candidates = [i for i, (n, m) in enumerate(zip(counts, out)) if m is not None]
        if candidates:
            out[min(candidates, key=lambda i: (counts[i], i))] = None
    return out


__all__ += ["audit_linked_keyed", "gate_group_means", "gate_linked_keyed", "gate_release", "link_keys",
            "release_inconsistencies"]


# --------------------------------------------------------------------------
# Cell key method: the protection of every released count
# --------------------------------------------------------------------------
#
# The suppression engine above stays as the attacker of the test suite (it
# bounds hidden figures by linear programming); releases are protected by the
# cell key method instead (docs/disclosure.md gives the measurements behind
# this choice).  Every record has a secret random key in 0..255; a published
# count is its true count plus a noise read from the perturbation table
# (ptable) at the row of the count and the column of the *cell key*, the sum
# of its records' keys modulo 256.  The same persons give the same cell key,
# hence the same noise, in every table, selection and release; a different
# set of persons gives a fresh draw.  The lookup follows the Office for
# National Statistics' cell-key-perturbation package (record keys 0..255, cell
# key = sum mod 256, p-table columns pcv/ckey/pvalue); the test suite checks
# this implementation against that package on the same records.

KEY_RANGE = 256
"""Record and cell keys are integers in ``0..KEY_RANGE-1`` (ONS convention)."""

WITHHELD_LABEL = "[c]"
"""Mark of a figure withheld by a rule on groups (secondary mark); a count
below ``k`` after perturbation reads ``< k`` (primary mark)."""


@dataclass(frozen=True)
class Tally:
    """A true count and the sum of its records' keys (not reduced).

    Tallies add and subtract like counts, so a figure derived by arithmetic
    (persons who did not reach a question = population - seen - skipped)
    carries the key sum of exactly the persons it counts.  Comparisons use
    the count only.  A tally is never published: :meth:`Protection.publish`
    turns it into a perturbed figure.
    """

    n: int
    keys: int = field(default=0, repr=False)

    def __add__(self, other: Tally | int) -> Tally:
        if isinstance(other, Tally):
            return Tally(self.n + other.n, self.keys + other.keys)
        if other == 0:
            return self
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: Tally) -> Tally:
        if not isinstance(other, Tally):
            return NotImplemented
        return Tally(self.n - other.n, self.keys - other.keys)

    def _value(self, other: object) -> int:
        return other.n if isinstance(other, Tally) else int(other)  # type: ignore[call-overload]

    def __lt__(self, other: object) -> bool:
        return self.n < self._value(other)

    def __le__(self, other: object) -> bool:
        return self.n <= self._value(other)

    def __gt__(self, other: object) -> bool:
        return self.n > self._value(other)

    def __ge__(self, other: object) -> bool:
        return self.n >= self._value(other)

    @property
    def cell_key(self) -> int:
        """The cell key: the key sum modulo :data:`KEY_RANGE`."""
        return self.keys % KEY_RANGE


ZERO = Tally(0, 0)
"""The empty tally (no person)."""


def _row_distribution(n: int, max_noise: int, variance: float, js: int) -> dict[int, float]:
    """Noise distribution of a true count ``n``: the maximum-entropy
    distribution over the allowed noises with mean 0 and variance
    ``max(variance, the least variance the allowed noises permit)``.

    Allowed: ``|d| <= max_noise`` and ``n + d >= 0``, never ``n + d`` in
    ``1..js``; a count of at most ``js + max_noise`` may also drop to 0.
    """
    if n == 0:
        return {0: 1.0}
    allowed = [d for d in range(-min(n, max_noise), max_noise + 1) if not 1 <= n + d <= js]
    if n <= js + max_noise and -n not in allowed:
        allowed.insert(0, -n)
    if len(allowed) == 1:
        return {allowed[0]: 1.0}
    import numpy as np
    from scipy.optimize import linprog, minimize

    d = np.array(allowed, dtype=float)
    equal = np.vstack([np.ones_like(d), d])
    # The least variance with mean 0 (a linear program), then the target.
    lp = linprog(d * d, A_eq=equal, b_eq=[1.0, 0.0], bounds=[(0, 1)] * len(d), method="highs")
    if not lp.success:  # pragma: no cover - every n has a mean-zero distribution
        raise DisclosureError(f"no unbiased noise distribution for count {n}")
    least = float(lp.fun)
    target = max(variance, least)
    best = lp.x
    if target > least + 1e-9:
        constraints = [{"type": "eq", "fun": lambda p: equal @ p - np.array([1.0, 0.0])},
                       {"type": "eq", "fun": lambda p: (d * d) @ p - target}]

        def negative_entropy(p: Any) -> float:
            q = np.clip(p, 1e-12, 1.0)
            return float(np.sum(q * np.log(q)))

        start = np.full(len(d), 1.0 / len(d))
        res = minimize(negative_entropy, start, method="SLSQP", bounds=[(0, 1)] * len(d),
                       constraints=constraints, options={"ftol": 1e-12, "maxiter": 500})
        p = np.clip(res.x, 0.0, 1.0)
        if res.success and abs(p.sum() - 1) < 1e-6 and abs(d @ p) < 1e-6 and abs((d * d) @ p - target) < 1e-6:
            best = p
    return {int(v): float(q) for v, q in zip(allowed, best) if q > 1e-12}


def _allocate(distribution: Mapping[int, float], slots: int) -> list[int]:
    """``slots`` cell keys shared out in proportion (largest remainders),
    noises in increasing order: the row of the p-table."""
    items = sorted(distribution.items())
    exact = [p * slots for _, p in items]
    counts = [int(x) for x in exact]
    order = sorted(range(len(items)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[:slots - sum(counts)]:
        counts[i] += 1
    return [d for (d, _), c in zip(items, counts) for _ in range(c)]


@dataclass(frozen=True)
class PTable:
    """A perturbation table: the noise of a true count ``n`` with cell key ``c``
    is ``rows[min(n, len(rows) - 1)][c]`` (every count beyond the last row has
    the same distribution).  Build it with :func:`make_ptable`."""

    max_noise: int
    variance: float
    js: int
    rows: tuple[tuple[int, ...], ...] = field(repr=False)

    def noise(self, n: int, cell_key: int) -> int:
        """The noise added to a true count ``n`` whose cell key is ``cell_key``."""
        return self.rows[min(n, len(self.rows) - 1)][cell_key % KEY_RANGE]

    def distribution(self, n: int) -> dict[int, float]:
        """Probability of each noise for a true count ``n`` (over uniform cell keys)."""
        row = self.rows[min(n, len(self.rows) - 1)]
        out: dict[int, float] = {}
        for d in row:
            out[d] = out.get(d, 0.0) + 1 / len(row)
        return out

    def ons_frame(self, max_pcv: int = 750) -> pl.DataFrame:
        """The table in the ONS package's layout: ``pcv`` (1..max_pcv),
        ``ckey`` (0..255), ``pvalue``."""
        pcv = [n for n in range(1, max_pcv + 1) for _ in range(KEY_RANGE)]
        ckey = [c for _ in range(max_pcv) for c in range(KEY_RANGE)]
        return pl.DataFrame({"pcv": pcv, "ckey": ckey, "pvalue": [self.noise(n, c) for n, c in zip(pcv, ckey)]})


def make_ptable(max_noise: int = 2, variance: float = 1.0, js: int = 2) -> PTable:
    """The p-table of this project (defaults: noise within +-2, variance 1,
    no published 1 or 2).  Each row is unbiased up to the 1/256 resolution
    of the cell keys (see :func:`_row_distribution` for the construction)."""
    if max_noise < 1 or js < 0 or variance <= 0:
        raise DisclosureError("max_noise >= 1, js >= 0 and variance > 0 are required")
    last = js + max_noise + 2  # from here on every row is the same
    rows = tuple(tuple(_allocate(_row_distribution(n, max_noise, variance, js), KEY_RANGE))
                 for n in range(last + 1))
    return PTable(max_noise, variance, js, rows)


_DEFAULT_PTABLE: PTable | None = None

# The project's p-table, :func:`make_ptable` with its defaults, row by row
# (true counts 0 to 6, then every larger count as 6): how many of the 256
# cell keys give each noise. Building it takes SciPy's optimisers, half a
# second of import at every start of a command or of the dashboard, for a
# table that never changes: it is written out here, and a test checks that
# :func:`make_ptable` still gives exactly these rows.
_DEFAULT_PTABLE_COUNTS: tuple[dict[int, int], ...] = (
    {0: 256},
    {-1: 171, 2: 85},
    {-2: 85, 1: 171},
    {-3: 20, 0: 180, 1: 51, 2: 5},
    {-4: 2, -1: 86, 0: 92, 1: 56, 2: 20},
    {-2: 16, -1: 63, 0: 98, 1: 63, 2: 16},
    {-2: 16, -1: 63, 0: 98, 1: 63, 2: 16},
)


def default_ptable() -> PTable:
    """The project's p-table: :func:`make_ptable` with its defaults (noise
    within +-2, variance 1, no published 1 or 2), from its written-out rows."""
    global _DEFAULT_PTABLE
    if _DEFAULT_PTABLE is None:
        rows = tuple(tuple(d for d, c in sorted(counts.items()) for _ in range(c))
                     for counts in _DEFAULT_PTABLE_COUNTS)
        _DEFAULT_PTABLE = PTable(max_noise=2, variance=1.0, js=2, rows=rows)
    return _DEFAULT_PTABLE


@dataclass(frozen=True)
class Protection:
    """How a release is protected.

    ``ptable`` None publishes true counts (tests of the counting only; no
    command offers it).  ``k``: a perturbed count in ``1..k-1`` reads ``< k``.
    ``rules``: the rules on groups (:func:`publish_table`).  ``mean_digits``:
    decimals of a published mean.
    """

    k: int = DEFAULT_K
    ptable: PTable | None = field(default_factory=default_ptable)
    rules: bool = True
    mean_digits: int = 1

    def perturbed(self, t: Tally) -> int:
        """The perturbed value of a count (before the threshold)."""
        if t.n < 0:
            raise DisclosureError(f"negative count {t.n}")
        if self.ptable is None:
            return t.n
        return max(0, t.n + self.ptable.noise(t.n, t.cell_key))

    def publish(self, t: Tally) -> int | None:
        """The published count: perturbed, None when it falls in ``1..k-1``."""
        v = self.perturbed(t)
        return None if 1 <= v < self.k else v

    @classmethod
    def exact(cls, k: int = DEFAULT_K) -> Protection:
        """True counts with the threshold only: for tests of the counting."""
        return cls(k=_check_k(k), ptable=None, rules=False)


@dataclass(frozen=True)
class PublishedTable:
    """A table as released: perturbed figures only, never the true counts.

    Accessors return None for a hidden figure; :meth:`withheld` tells a
    figure withheld by a rule on groups (mark :data:`WITHHELD_LABEL`) from a
    perturbed count below ``k`` (mark ``< k``).  Each figure - margins
    included - is perturbed on its own, so the table does not add up exactly.
    """

    row_var: str
    col_var: str | None
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    values: dict[Position, int | None]
    withheld_positions: frozenset[Position] = frozenset()

    def cell(self, r: int, c: int) -> int | None:
        """The published cell ``(r, c)``, None when hidden."""
        return self.values[(r, c)]

    def row_total(self, r: int) -> int | None:
        """The published total of row ``r`` (the cell itself in a 1-D table)."""
        return self.values[(r, len(self.col_labels))] if self.col_var is not None else self.values[(r, 0)]

    def col_total(self, c: int) -> int | None:
        """The published total of column ``c``."""
        return self.values[(len(self.row_labels), c)]

    def total(self) -> int | None:
        """The published grand total."""
        if self.col_var is None:
            return self.values[(len(self.row_labels), 0)]
        return self.values[(len(self.row_labels), len(self.col_labels))]

    def withheld(self, pos: Position) -> bool:
        """True when the figure at ``pos`` is withheld by a rule on groups."""
        return pos in self.withheld_positions


def publish_table(matrix: Sequence[Sequence[Tally]], row_labels: Sequence[str], col_labels: Sequence[str],
                  row_var: str, col_var: str | None, protection: Protection,
                  substantive_rows: Sequence[int] | None = None) -> PublishedTable:
    """Perturb every figure of a table (cells and margins) and apply the rules on groups.

    Rules (``protection.rules``), on the perturbed figures only, so that
    hiding reveals nothing the published figures do not:

    * *group size*: a column (a group of a breakdown) whose published total
      is below ``k`` (0 included) gets no figure of its own: its cells are
      withheld, zeros included, and its total reads ``< k``;
    * *homogeneity*: a group - each column, and the whole table for a 1-D
      table - where every substantive answer but one is published as 0
      would publish a 100 %: its cells are withheld, also when that one
      answer reads ``< k`` (hidden, but at least 1) beside a published
      group total.  ``substantive_rows``
      are the rows that are answers (default: all; "prefer not to answer"
      is not one).
    """
    n_rows, n_cols = len(row_labels), len(col_labels)
    if len(matrix) != n_rows or any(len(row) != n_cols for row in matrix):
        raise DisclosureError(f"counts must have shape {n_rows}x{n_cols}")
    two_d = col_var is not None
    values: dict[Position, int | None] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            values[(r, c)] = protection.publish(matrix[r][c])
    col_totals = [sum((matrix[r][c] for r in range(n_rows)), ZERO) for c in range(n_cols)]
    for c in range(n_cols):
        values[(n_rows, c)] = protection.publish(col_totals[c])
    if two_d:
        for r in range(n_rows):
            values[(r, n_cols)] = protection.publish(sum(matrix[r], ZERO))
        values[(n_rows, n_cols)] = protection.publish(sum(col_totals, ZERO))
    withheld: set[Position] = set()
    if protection.rules:
        rows = list(range(n_rows)) if substantive_rows is None else list(substantive_rows)
        for c in range(n_cols):
            column = [values[(r, c)] for r in rows]
            # A column exists only for a category with persons: a published
            # total of 0 there says "1 or 2", as small as a hidden one.
            small_group = two_d and not values[(n_rows, c)]
            if small_group:
                values[(n_rows, c)] = None
            # Every answer but one published as 0: the remaining one is the
            # group's only answer, whether it is shown or reads "< k" (a
            # hidden count is at least 1: 0 is never perturbed).
            homogeneous = len(rows) >= 2 and sum(1 for v in column if v == 0) == len(rows) - 1
            if small_group or homogeneous:
                withheld.update((r, c) for r in range(n_rows))
        for pos in withheld:
            values[pos] = None
    return PublishedTable(row_var, col_var, tuple(row_labels), tuple(col_labels), values, frozenset(withheld))


def withhold_columns(table: PublishedTable, cols: Sequence[str]) -> PublishedTable:
    """``table`` with the groups (columns) ``cols`` withheld as a whole:
    their cells and their total marked ``[c]``. For a group that differs by
    a handful of persons from another published group (see
    :func:`analysis.releases.check_groups`)."""
    if table.col_var is None:
        return table
    idx = [c for c, label in enumerate(table.col_labels) if label in set(cols)]
    if not idx:
        return table
    values = dict(table.values)
    withheld = set(table.withheld_positions)
    for c in idx:
        for r in range(len(table.row_labels) + 1):
            values[(r, c)] = None
            withheld.add((r, c))
    return PublishedTable(table.row_var, table.col_var, table.row_labels, table.col_labels, values,
                          frozenset(withheld))


def round_mean(mean: float | None, contributors: Tally, protection: Protection) -> float | None:
    """A mean as published: rounded to ``protection.mean_digits`` decimals,
    None when the published count of its contributors is below ``k`` or hidden.

    No interval goes with it in public outputs: an interval at full precision
    gives back the number of contributors and the sum of squares.
    """
    if mean is None or protection.publish(contributors) is None:
        return None
    if not math.isfinite(mean):
        raise DisclosureError(f"mean must be a finite number, got {mean!r}")
    return round(mean, protection.mean_digits)


__all__ += ["KEY_RANGE", "PTable", "Protection", "PublishedTable", "Tally", "WITHHELD_LABEL", "ZERO",
            "default_ptable", "make_ptable", "publish_table", "round_mean", "withhold_columns"]
