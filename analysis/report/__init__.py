"""The diagnostic release and its report.

The package is split by concept:

- :mod:`~analysis.report.model`: the typed release (:class:`Release`,
  :class:`View`, :class:`Figure`, :class:`Mean`, :class:`ViewId`, the key
  indicators);
- :mod:`~analysis.report.build`: the builder, dataset -> release, applying
  disclosure control (with :mod:`~analysis.report.tallies`,
  :mod:`~analysis.report.publish` and :mod:`~analysis.report.orders`);
- :mod:`~analysis.report.labels`: labels, bands, site lists and number
  formats in the report's language;
- :mod:`~analysis.report.query`: reading a release (key indicators, module order);
- renderers, which receive a release and nothing else: the HTML report
  (:mod:`~analysis.report.html_document`, :mod:`~analysis.report.html_themes`,
  :mod:`~analysis.report.html_blocks`), its PDF print (here), the exports
  (:mod:`analysis.export`) and the team dashboard (:mod:`analysis.dashboard`).

This module holds the report request: its checks, made before any work,
and writing the file (a recorded release), with the names other modules use.
"""

from __future__ import annotations

import datetime as dt  # period_bounds gives dt.date values; callers use report.dt

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from surveycore import i18n, types
from surveycore.errors import KioskError
from analysis import disclosure, standardise, tables
from analysis.ingest import module_index, scan_answers, scan_responses
from analysis.report.html_blocks import _anchor, bar_chart, dot_chart, legend
from analysis.report.html_document import render_html
from analysis.report.html_themes import _binary, _shown_classes
from analysis.report.labels import (Fmt, _t, _unpooled_text, answer_label, breakdown_title, category_label,
                                    class_label, item_title, period_bounds, title_of, unpooled_versions)
from analysis.report.model import (KEY_INDICATORS, NOT_COMPUTABLE, STATUSES, VIEW_SCHEMA, Figure, Indicator, Mean,
                                   Release, View, ViewId)
from analysis.report.orders import _semver, survey_orders
from analysis.report.query import _ordered_modules, indicator_figures, key_indicators
from analysis.report.build import _apply_filters, _score_query, build_release, release_from_frames
from analysis.tables import MISSING, NO_ANSWER, NONE, NOT_REACHED, REFUSED, SKIPPED
from surveycore.i18n import N_


class ReportError(KioskError):
    """A report that cannot be made as asked (checked before any work)."""

    code = "RPT-001"


PERIODS = ("week", "month", "quarter", "year")
"""Granularities of the period breakdown (``--period``)."""


def check_request(data_dir: str | Path, lang: str, breakdowns: Mapping[str, str] | None = None,
                  where: Mapping[str, Sequence[str]] | None = None, period: str = "quarter") -> None:
    """Refuse at once a report that cannot be made: a missing or empty
    dataset, an unsupported language, an unknown period or ``--where``
    breakdown (``RPT-0xx``)."""
    bds = dict(tables.DEFAULT_BREAKDOWNS if breakdowns is None else breakdowns)
    if lang not in i18n.shipped_languages():
        raise ReportError(f"--lang {lang!r} is not supported; use one of {', '.join(i18n.shipped_languages())} "
                          "(a language needs its catalog in locales/)", code="RPT-003")
    if period not in PERIODS:
        raise ReportError(f"--period {period!r}: use one of {', '.join(PERIODS)}", code="RPT-004")
    for name in (where or {}):
        if name not in bds:
            raise ReportError(f"--where {name}=...: {name!r} is not a breakdown; use one of {', '.join(bds)}",
                              code="RPT-001")
    if not (Path(data_dir) / "responses").is_dir():
        raise ReportError(f"--data {str(data_dir)!r} holds no dataset (no responses/ folder); give the folder "
                          "'analysis ingest --data' wrote", code="RPT-005")


RESPONSE_SOURCES = ("centre", "lang", "period")
"""Response columns a breakdown may read (any other source is a ``module.item``)."""


def check_breakdowns(breakdowns: Mapping[str, str] | None, questionnaire_dirs: Sequence[str | Path],
                     data_dir: str | Path | None = None) -> None:
    """Refuse at once a breakdown whose source is neither a response column
    nor a single-choice question of the questionnaires (or of the dataset's
    own survey definitions): ``RPT-006``, listing the valid sources."""
    if not breakdowns:
        return
    from analysis.ingest import dataset_surveys

    modules = list(module_index(questionnaire_dirs).values())
    if data_dir is not None:
        try:
            modules += [m for sv in dataset_surveys(data_dir).values() for m in sv.modules]
        except (KioskError, OSError, ValueError, KeyError):
            pass  # an unreadable definition is reported by the report itself
    valid = sorted({f"{m.id}.{it.id}" for m in modules for it in m.items if types.get(it.type).code})
    for name, source in breakdowns.items():
        if source in RESPONSE_SOURCES or source in valid:
            continue
        raise ReportError(f"--breakdown {name}={source}: {source!r} is not a breakdown source; use a response "
                          f"column ({', '.join(RESPONSE_SOURCES)}) or a single-choice question as module.item "
                          f"({', '.join(valid)})", code="RPT-006")


def find_browser() -> str | None:
    """A headless-capable Chromium on this machine (Debian's chromium), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(html_file: str | Path, pdf: str | Path, browser: str) -> None:
    """Print the HTML report to an A4 PDF with headless Chromium (the page
    size comes from the report's print stylesheet)."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               f"--user-data-dir={profile}", f"--print-to-pdf={Path(pdf).resolve()}",
               Path(html_file).resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    if done.returncode != 0 or not Path(pdf).exists():
        raise ReportError(f"{browser} could not print {html_file} to PDF: "
                          f"{done.stderr.decode(errors='replace')[-300:]}; open the HTML file in a browser and "
                          "print it (A4, no headers and footers)", code="RPT-011")


def build_report(data_dir: str | Path, questionnaire_dirs: list[str | Path], lang: str = "fr",
                 k: int = disclosure.DEFAULT_K, breakdowns: Mapping[str, str] | None = None,
                 period: str = "quarter", where: Mapping[str, Sequence[str]] | None = None,
                 appendix: str = "territory", standard: standardise.StandardPopulation | None = None,
                 withhold: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The whole report as an HTML string (``where``: only the responses in
    these breakdown categories, e.g. ``{"centre": ["MARSEILLE"]}``;
    ``standard``: the reference population of the standardised shares;
    ``withhold``: groups withheld as a whole, :func:`analysis.releases.check`)."""
    return render_html(build_release(data_dir, questionnaire_dirs, k, breakdowns, None if period == "week"
                                     else period, where, standard=standard, withhold=withhold), lang, appendix)


def load_standard(path: str | Path | None, questionnaire_dirs: Sequence[str | Path]) -> standardise.StandardPopulation:
    """The reference population (the shipped one when ``path`` is None); a
    team's own file is checked against the age bands of the questionnaires'
    demographics module (``RPT-020``, ``RPT-021``): refused before any work."""
    std = standardise.load(standardise.DEFAULT_FILE if path is None else path)
    if path is None:
        return std  # the shipped census: used only where the survey's bands are its bands
    found = [m for (m_id, _), m in sorted(module_index(questionnaire_dirs).items(),
                                          key=lambda kv: (kv[0][0], _semver(kv[0][1]))) if m_id == "demographics"]
    if found and any(it.id == "age_band" for it in found[-1].items):
        standardise.check_bands(std, [c.code for c in found[-1].item("age_band").choices])
    return std


def write_report(data_dir: str | Path, out: str | Path, questionnaire_dirs: list[str | Path],
                 lang: str = "fr", k: int = disclosure.DEFAULT_K,
                 breakdowns: Mapping[str, str] | None = None, period: str = "quarter",
                 where: Mapping[str, Sequence[str]] | None = None, pdf: str | Path | None = None,
                 appendix: str = "territory", standard_population: str | Path | None = None) -> None:
    """Write the report file, a public release: checked against the earlier
    releases of the dataset and recorded in its ledger (:mod:`analysis.releases`).
    A report restricted by ``where`` is a release of its own (its responses
    are checked and recorded). With ``pdf``, also print it to that PDF.
    ``standard_population``: a reference population file of the team's own
    (default: the shipped census population)."""
    from analysis import releases

    check_request(data_dir, lang, breakdowns, where, period)
    for option, path, example in (("--out", out, "report.html"), ("--pdf", pdf, "report.pdf")):
        if path is not None and Path(path).is_dir():
            raise ReportError(f"{option} {str(path)!r} is a folder; give the report's file name in it, for "
                              f"example {str(Path(path) / example)!r}", code="RPT-007")
    check_breakdowns(breakdowns, questionnaire_dirs, data_dir)
    standard = load_standard(standard_population, questionnaire_dirs)
    browser = find_browser() if pdf is not None else None
    if pdf is not None and browser is None:
        raise ReportError("--pdf needs Chromium (Debian: apt install chromium), and none was found; write the "
                          "HTML report without --pdf, open it in a browser and print it to PDF (A4, no headers "
                          "and footers): its print stylesheet lays it out for paper", code="RPT-010")
    subset = None
    bds = dict(tables.DEFAULT_BREAKDOWNS if breakdowns is None else breakdowns)
    if where:
        subset = _apply_filters(scan_responses(data_dir), scan_answers(data_dir), bds,
                                None if period == "week" else period, where)
        if subset.select(pl.len()).collect().item() == 0:
            shown = ", ".join(f"{n}={','.join(v)}" for n, v in where.items())
            # The centre codes are what a team mistypes most (Lyon for LYON): name them.
            known = ""
            if "centre" in where:
                centres = scan_responses(data_dir).select("centre").unique().collect()["centre"].to_list()
                known = f"; the dataset's centres are {', '.join(sorted(str(c) for c in centres))}"
            raise ReportError(f"--where {shown}: no response in the dataset matches; check the spelling of the "
                              f"category (as the report names it){known}", code="RPT-002")
    for option, path in (("--out", out), ("--pdf", pdf)):
        if path is None:
            continue
        try:  # a new folder on the way is made, as 'analysis export' does
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"{option} {str(path)!r}: cannot create the folder {str(Path(path).parent)!r} "
                              f"({exc.strerror}); choose a folder you can write", code="RPT-007") from None
    groups = releases.release_groups(data_dir, questionnaire_dirs, bds, None if period == "week" else period, subset)
    covered = releases.check(data_dir, k, subset, groups)
    release = build_release(data_dir, questionnaire_dirs, k, breakdowns, None if period == "week" else period, where,
                            standard=standard, withhold=covered.withheld)
    Path(out).write_text(render_html(release, lang, appendix), encoding="utf-8")
    releases.record(data_dir, "report", "html", out, k, covered, releases.published_groups(release.views.values()))
    if pdf is not None and browser is not None:
        print_pdf(out, pdf, browser)
