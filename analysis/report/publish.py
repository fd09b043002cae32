"""Published tables into views: percentages, intervals, means and
prevalences computed only from published figures, each view named by its
:class:`~analysis.report.model.ViewId`.
"""

from __future__ import annotations

from surveycore.questionnaire import ScoreDef
from analysis import disclosure, scores, tables
from analysis.disclosure import Protection, PublishedTable, Tally
from analysis.report.model import Figure, Mean, STATUSES, View, ViewId
from analysis.report.tallies import _Family


def _pct(num: int | None, den: int | None, k: int, withheld: bool = False) -> Figure:
    """A published count with its percentage of a published denominator.

    Both are perturbed independently, so a numerator may exceed its
    denominator by the noise: the share is then read as 100 %.
    """
    if num is None or den is None or den <= 0:
        return Figure(num, withheld=withheld)
    pct = disclosure.gate_percentage(min(num, den), den, k)
    if pct is None:
        return Figure(num)
    ci = tables.wilson(min(num, den), den)
    assert ci is not None
    return Figure(num, pct, 100 * ci[0], 100 * ci[1])


def _views_of(family: _Family, published: list[PublishedTable], protection: Protection) -> list[View]:
    """Views of a family's published tables; percentages only from
    published figures, so they reveal nothing the counts do not."""
    out: list[View] = []
    k = protection.k
    # The overall bands of a score withheld as homogeneous: its mean is too.
    bands_withheld = any(kind == "score" and table.withheld_positions for table, (kind, _) in
                         zip(published, family.specs))
    for table, (kind, spec) in zip(published, family.specs):
        if kind == "participation":
            v = View(ViewId.participation().key, kind, rows=list(STATUSES))
            for r, s in enumerate(STATUSES):
                v.cells[(s, "")] = Figure(table.cell(r, 0))
            v.total = Figure(table.total())
            comp, part = table.cell(0, 0), table.cell(1, 0)
            v.prevalence[""] = _pct(comp, None if comp is None or part is None else comp + part, k)
            out.append(v)
        elif kind == "dropoff":
            v = View(ViewId.dropoff().key, kind, rows=list(table.row_labels))
            for r, label in enumerate(table.row_labels):
                v.cells[(label, "")] = _pct(table.cell(r, 0), table.total(), k)
            v.total = Figure(table.total())
            out.append(v)
        elif kind in ("frequency", "status", "crosstab"):
            out.append(_item_view(table, kind, spec, k))
        elif kind in ("score", "score_status", "score_screen", "score_by"):
            out.append(_score_view(table, kind, spec, protection, bands_withheld))
        elif kind == "indicator":
            v = View(ViewId.indicator(str(spec["indicator"])).key, kind, str(spec["module"]), int(spec["major"]),
                     rows=list(table.row_labels))
            for r, row in enumerate(table.row_labels):
                v.cells[(row, "")] = _pct(table.cell(r, 0), table.total(), k, table.withheld((r, 0)))
            v.total = Figure(table.total())
            out.append(v)
        elif kind == "indicator_by":
            by = str(spec["by"])
            v = View(ViewId.indicator(str(spec["indicator"])).per(by).key, kind, str(spec["module"]), int(spec["major"]),
                     by=by, rows=list(table.row_labels), cols=list(table.col_labels))
            _fill_2d(v, table, k, pct_of_column=True)
            out.append(v)
    return out


def _fill_2d(v: View, table: PublishedTable, k: int, pct_of_column: bool = False) -> None:
    for r, row in enumerate(table.row_labels):
        for c, col in enumerate(table.col_labels):
            n, withheld = table.cell(r, c), table.withheld((r, c))
            v.cells[(row, col)] = (_pct(n, table.col_total(c), k, withheld) if pct_of_column
                                   else Figure(n, withheld=withheld))
        v.row_totals[row] = Figure(table.row_total(r))
    for c, col in enumerate(table.col_labels):
        # A group withheld as a whole shows its total as withheld too.
        v.col_totals[col] = Figure(table.col_total(c), withheld=table.withheld((len(table.row_labels), c)))
    v.total = Figure(table.total())


def _item_view(table: PublishedTable, kind: str, spec: dict, k: int) -> View:
    module, major, item = str(spec["module"]), int(spec["major"]), str(spec["item"])
    multiple, option = bool(spec["multiple"]), str(spec.get("option", ""))
    vid = ViewId.item(module, major, item, option if multiple else None)
    rows = list(table.row_labels)
    if kind == "frequency":
        shown = rows if not multiple else [option]
        v = View(vid.key, kind, module, major, item, rows=shown)
        for r, label in enumerate(shown):
            v.cells[(label, "")] = _pct(table.cell(r, 0), table.total(), k, table.withheld((r, 0)))
        v.total = Figure(table.total())
        return v
    if kind == "status":
        v = View(vid.status().key, kind, module, major, item, rows=rows)
        for r, label in enumerate(rows):
            v.cells[(label, "")] = Figure(table.cell(r, 0))
        v.total = Figure(table.total())
        return v
    by = str(spec["by"])
    v = View(vid.per(by).key, kind, module, major, item, by=by, rows=rows, cols=list(table.col_labels))
    # Column percentages: over the persons of that column who saw the item.
    _fill_2d(v, table, k, pct_of_column=True)
    return v


def _score_view(table: PublishedTable, kind: str, spec: dict, protection: Protection,
                bands_withheld: bool = False) -> View:
    k = protection.k
    score: ScoreDef = spec["score"]
    module, major = str(spec["module"]), int(spec["major"])
    vid = ViewId.score(module, major, score.id)
    if kind == "score_status":
        sums: dict[str, tuple[Tally, float, float]] = spec["sums"]
        v = View(vid.status().key, kind, module, major, score=score.id, rows=list(table.row_labels))
        for r, row in enumerate(table.row_labels):
            v.cells[(row, "")] = Figure(table.cell(r, 0))
        v.total = Figure(table.total())
        v.means[""] = Mean(None) if bands_withheld else _mean(sums[""], protection, score)
        return v
    if kind == "score_screen":
        # Only the prevalence is new here; the bands are the "score" view.
        v = View(vid.screen().key, kind, module, major, score=score.id, rows=[scores.NEGATIVE, scores.POSITIVE])
        for r, side in enumerate(table.row_labels):
            v.cells[(side, "")] = _pct(table.cell(r, 0), table.total(), k, table.withheld((r, 0)))
        v.total = Figure(table.total())
        v.prevalence[""] = v.cells[(scores.POSITIVE, "")]
        return v
    positive: list[str] = spec.get("positive_rows", [])
    if kind == "score":
        cls = list(table.row_labels)
        v = View(vid.key, kind, module, major, score=score.id, rows=cls)
        for r, row in enumerate(cls):
            v.cells[(row, "")] = _pct(table.cell(r, 0), table.total(), k, table.withheld((r, 0)))
        v.total = Figure(table.total())
        if positive and set(cls) == {scores.NEGATIVE, scores.POSITIVE}:
            v.prevalence[""] = v.cells[(scores.POSITIVE, "")]
        return v
    by = str(spec["by"])
    sums = spec["sums"]
    v = View(vid.per(by).key, kind, module, major, score=score.id, by=by, rows=list(table.row_labels),
             cols=list(table.col_labels))
    _fill_2d(v, table, k, pct_of_column=bool(spec.get("counts_scored")))
    columns = list(table.col_labels)
    for c, col in enumerate(columns):
        # A group too small for a column of its own has no mean either, nor
        # one withheld (its mean would say what its hidden bands hide: 0.0
        # for "nobody in this group", or that it is not so).
        hidden = table.col_total(c) is None or (bool(table.row_labels) and all(
            table.withheld((r, c)) for r in range(len(table.row_labels))))
        v.means[col] = Mean(None) if hidden else _mean(sums[col], protection, score)
        if positive:
            v.prevalence[col] = _prevalence([table.cell(r, c) for r, row in enumerate(table.row_labels)
                                             if row in positive], table.col_total(c), k)
    return v


def _mean(sums: tuple[Tally, float, float], protection: Protection, score: ScoreDef | None = None) -> Mean:
    """A published mean: rounded, hidden when its contributors' published
    count is below ``k``, and without interval; hidden too when it reads the
    least or the greatest value of the score: every contributor (but a
    fraction of the rounding) has that value, a homogeneous group."""
    scored, total, _ = sums
    mean = total / scored.n if scored.n > 0 else None
    shown = disclosure.round_mean(mean, scored, protection)
    if shown is not None and score is not None and any(
            bound is not None and round(float(bound), protection.mean_digits) == shown
            for bound in (score.minimum, score.maximum)):
        return Mean(None)
    return Mean(shown)


def _prevalence(parts: list[int | None], scored: int | None, k: int) -> Figure:
    """Share at or above the cut-off: a sum of published classes, so it is
    only given when every one of them is published."""
    if any(p is None for p in parts):
        return Figure(None)
    return _pct(sum(parts), scored, k)  # type: ignore[arg-type]
