"""Labels of a release in the report's language: interface texts, answer
and band labels, breakdown titles and categories (site lists, periods),
and the number formats (:class:`Fmt`) every renderer shares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from babel.numbers import format_decimal

from surveycore import i18n
from surveycore.i18n import N_
from surveycore.questionnaire import Module, ScoreDef
from analysis import disclosure, scores
from analysis.tables import MISSING, NO_ANSWER, NONE, NOT_REACHED, REFUSED, SKIPPED
from analysis.report.model import Figure, NOT_COMPUTABLE, Release


_T_CACHE: dict[tuple[str, str], str] = {}


def _t(lang: str, msgid: str) -> str:
    # A report looks up thousands of labels; each lookup checks the
    # catalog file. One render uses one state of the catalogs (render_html
    # empties this cache when it starts).
    text = _T_CACHE.get((lang, msgid))
    if text is None:
        text = _T_CACHE[(lang, msgid)] = i18n.translations(lang).gettext(msgid)
    return text


def _breakdown_labels(source: str, modules: Mapping[tuple[str, int], Module]) -> dict[str, dict[str, str]]:
    """Category code -> {lang: label} of an answer-based breakdown."""
    if "." not in source:
        return {}
    mid, iid = source.split(".", 1)
    out: dict[str, dict[str, str]] = {}
    for (m_id, _), m in sorted(modules.items()):
        if m_id != mid:
            continue
        try:
            for c in m.item(iid).choices:
                out[c.code] = dict(c.label)
        except KeyError:
            continue
    return out


def breakdown_title(lang: str, by: str) -> str:
    """Human name of a breakdown."""
    names = {"neighbourhood": N_("Neighbourhood"), "centre": N_("Centre"), "age_band": N_("Age band"),
             "gender": N_("Gender"), "lang": N_("Language"), "period": N_("Period")}
    return _t(lang, names[by]) if by in names else by


def category_label(release: Release, by: str, cat: str, lang: str) -> str:
    """Label of a breakdown category."""
    if cat == REFUSED:
        return _t(lang, "Prefer not to answer")
    if cat == MISSING:
        return _t(lang, "Not stated")
    if by in release.breakdowns and release.breakdowns[by] == "lang":
        return i18n.native_name(cat)
    labels = release.breakdown_labels.get(by, {}).get(cat)
    if labels:
        return labels.get(lang) or labels.get("en") or cat
    return cat


def answer_label(module: Module | None, item_id: str, code: str, lang: str) -> str:
    """Label of an answer code or state of an item."""
    special = {REFUSED: N_("Prefer not to answer"), SKIPPED: N_("Skipped (not asked)"),
               NOT_REACHED: N_("Not reached"), NONE: N_("None of these"), "_seen": N_("Saw the question")}
    if code in special:
        return _t(lang, special[code])
    if code.startswith("!"):
        return _t(lang, "Not selected")
    if module is None:
        return code
    try:
        item = module.item(item_id)
    except KeyError:
        return code
    for c in item.choices:
        if c.code == code:
            return c.label.get(lang) or c.label.get("en") or code
    return code


def class_label(score: ScoreDef, class_id: str, lang: str) -> str:
    """Label of a score class (band, band split at the cut-off, or screen result)."""
    if class_id == NOT_COMPUTABLE:
        return _t(lang, "Not computable (item missing or refused)")
    if class_id == "_scored":
        return _t(lang, "Scored")
    if class_id == scores.NEGATIVE:
        return _t(lang, "Below the cut-off")
    if class_id == scores.POSITIVE:
        return _t(lang, "At or above the cut-off")
    base, _, split = class_id.partition("|")
    if base == scores.BELOW:
        name = _t(lang, "Below the first band")
    else:
        name = title_of(score.band_text.get(base, {}), lang, base)
    if split == "below":
        return name + " (" + _t(lang, "below the cut-off") + ")"
    if split == "above":
        return name + " (" + _t(lang, "at or above the cut-off") + ")"
    return name


def item_title(module: Module | None, item_id: str, lang: str) -> str:
    """Question text of an item."""
    if module is None:
        return item_id
    try:
        it = module.item(item_id)
    except KeyError:
        return item_id
    return it.text.get(lang) or it.text.get("en") or item_id


def title_of(texts: Mapping[str, str], lang: str, default: str) -> str:
    """Text in ``lang`` or English or ``default``."""
    return texts.get(lang) or texts.get("en") or default


class Fmt:
    """Locale formatting of published figures (babel)."""

    def __init__(self, lang: str, k: int) -> None:
        self.lang = lang if i18n.babel_locale(lang) else "en"
        self.k = k
        self.hidden = disclosure.suppressed_label(k)
        # A report formats tens of thousands of figures, most of them
        # repeated; babel takes ~0.1 ms for each.
        self._counts: dict[int, str] = {}
        self._numbers: dict[tuple[float, int], str] = {}

    def n(self, value: int | None | Figure) -> str:
        """A count; ``< k`` when hidden as a small count, ``[c]`` when a
        :class:`Figure` is withheld by a rule on groups."""
        if isinstance(value, Figure):
            if value.withheld:
                return disclosure.WITHHELD_LABEL
            value = value.n
        if value is None:
            return self.hidden
        text = self._counts.get(value)
        if text is None:
            text = self._counts[value] = format_decimal(value, locale=self.lang)
        return text

    def pct(self, value: float | None) -> str:
        """A percentage (0-100) with one decimal, ``–`` when not publishable."""
        if value is None:
            return "–"
        key = (value, -1)
        text = self._numbers.get(key)
        if text is None:
            text = self._numbers[key] = i18n.format_percent(value / 100, self.lang)  # one formatter for all
        return text

    def num(self, value: float | None, digits: int = 1) -> str:
        """A decimal number."""
        if value is None:
            return "–"
        key = (value, digits)
        text = self._numbers.get(key)
        if text is None:
            text = self._numbers[key] = format_decimal(value, locale=self.lang, format="#,##0." + "0" * digits)
        return text

    def ci(self, lo: float | None, hi: float | None, digits: int = 1) -> str:
        """An interval ``[lo – hi]``."""
        if lo is None or hi is None:
            return ""
        return f"[{self.num(lo, digits)} – {self.num(hi, digits)}]"


def period_bounds(period: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of a period code (``2026-W05``, ``2026-03``,
    ``2026-Q2``, ``2026``); None for anything else."""
    try:
        if "-W" in period:
            year, week = map(int, period.split("-W"))
            first = dt.date.fromisocalendar(int(year), int(week), 1)
            return first, first + dt.timedelta(days=6)
        if "-Q" in period:
            year, q = map(int, period.split("-Q"))
            first = dt.date(int(year), 3 * int(q) - 2, 1)
            nxt = dt.date(int(year) + (int(q) == 4), 1 if int(q) == 4 else 3 * int(q) + 1, 1)
            return first, nxt - dt.timedelta(days=1)
        if len(period) == 7 and period[4] == "-":
            year, month = int(period[:4]), int(period[5:])
            first = dt.date(year, month, 1)
            nxt = dt.date(year + (month == 12), 1 if month == 12 else month + 1, 1)
            return first, nxt - dt.timedelta(days=1)
        if len(period) == 4:
            return dt.date(int(period), 1, 1), dt.date(int(period), 12, 31)
    except ValueError:
        return None
    return None


def unpooled_versions(u: dict) -> str:
    """``epices 1.0.0 (SAINT-DENIS), epices 1.1.0 (MARSEILLE)``: the versions
    of a score reported apart, with the centres that used each."""
    return ", ".join(f"{u['module']} {p['version']}" + (f" ({', '.join(p['sites'])})" if p["sites"] else "")
                     for p in u["versions"])


def _unpooled_text(u: dict, lang: str) -> str:
    """The methods' sentence saying that a score was reported per version."""
    return _t(lang, "{score}: reported separately for {versions}, not pooled: the answer codes or the "
                    "points of its items differ between these versions.").format(
        score=title_of(u["label"], lang, u["score"]), versions=unpooled_versions(u))


def _stratum_label(release: Release, band: str, sex: str, lang: str) -> str:
    """An age-sex group of the reference population, in words: "Woman, 18 to 24"."""
    found = [m for (m_id, _), m in sorted(release.modules.items()) if m_id == "demographics"]
    module = found[-1] if found else None
    return f"{answer_label(module, 'gender', sex, lang)}, {answer_label(module, 'age_band', band, lang)}"


def _status_label(lang: str, s: str) -> str:
    return {"complete": _t(lang, "Complete"), "partial": _t(lang, "Partial"),
            "declined": _t(lang, "Declined at consent")}[s]


def _question_label(release: Release, row: str, lang: str) -> str:
    if row == NO_ANSWER:
        return _t(lang, "Left before answering any question")
    mid, _, iid = row.partition(".")
    for (m_id, _), m in release.modules.items():
        if m_id == mid:
            return item_title(m, iid, lang)
    return row


def withheld_groups_note(release: Release, lang: str) -> str | None:
    """The sentence naming the groups withheld as a whole and why (report
    methods, export README); None when there is none."""
    if not release.withheld_groups:
        return None
    groups = ", ".join(f"{breakdown_title(lang, by)}: {category_label(release, by, cat, lang)}"
                       for by, cats in release.withheld_groups.items() for cat in cats)
    return _t(lang, "Groups withheld as a whole ([c]) because they differ by fewer than {k} persons from "
                    "another group published in this report or in an earlier release: comparing the two "
                    "would show what those few persons answered. {groups}.").format(k=release.k, groups=groups)
