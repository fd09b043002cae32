"""Direct age and sex standardisation of the key indicators.

Two neighbourhoods with different age structures are compared fairly by
weighting each one's age-sex specific shares by the same reference
population (direct standardisation). The reference shipped is the French
census population by age band and sex (Insee, RP2018, Licence Ouverte); a
team may give its own file (``analysis report --standard-population``).

The 95 % interval of a directly standardised rate is the gamma interval of
Fay and Feuer (1997), "Confidence intervals for directly standardized
rates: a method based on the gamma distribution", Statistics in Medicine
16:791-801, the method of R's ``epitools::ageadjust.direct`` and of the
public health observatories; its gamma quantiles come from SciPy
(``scipy.special.gammaincinv``: ``gamma.ppf(q, a, scale=s)`` is
``s * gammaincinv(a, q)``, without the second ``scipy.stats`` takes to import).

What is published and why it cannot reveal a hidden cell is in
``docs/disclosure.md`` ("Standardised shares").
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from surveycore.errors import KioskError

DEFAULT_FILE = Path(__file__).resolve().parent / "standard_population" / "insee_rp2018_france.csv"
"""The shipped reference population (its header names source, year, licence, URL)."""

AGE_SOURCE = "demographics.age_band"
SEX_SOURCE = "demographics.gender"
SEXES = ("woman", "man")
"""The answers of ``demographics.gender`` a standard population gives by
sex; other answers (and no answer) are left out of standardised figures."""


class StandardPopulationError(KioskError):
    """A reference population file that cannot be used (checked before any work)."""

    code = "RPT-020"


@dataclass(frozen=True)
class StandardPopulation:
    """A reference population: persons per (age band, sex), and where it comes from."""

    path: str
    counts: dict[tuple[str, str], float]
    source: str = ""
    header: list[str] = field(default_factory=list)

    @property
    def bands(self) -> list[str]:
        """The age bands, in file order."""
        return list(dict.fromkeys(a for a, _ in self.counts))


def load(path: str | Path = DEFAULT_FILE) -> StandardPopulation:
    """Read a reference population file: ``#`` comment lines (source, year,
    licence, URL), then a CSV with columns ``age_band,sex,population``.
    The first comment line that starts with ``Source:`` names the source."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StandardPopulationError(f"--standard-population {str(path)!r} cannot be read ({exc}); give a UTF-8 "
                                      "CSV file with columns age_band,sex,population") from None
    comments = [line[1:] for line in text.splitlines() if line.startswith("#")]
    header = [c.strip() for c in comments]
    source = ""
    for i, c in enumerate(comments):
        if c.strip().lower().startswith("source:"):
            # A long source goes on over the next, indented, comment lines.
            parts = [c.strip().split(":", 1)[1].strip()]
            parts += [x.strip() for x in _continued(comments[i + 1:])]
            source = " ".join(parts)
            break
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(rows)
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != ["age_band", "sex", "population"]:
        raise StandardPopulationError(f"{path}: the first line after the comments must be "
                                      "'age_band,sex,population'; found "
                                      f"{','.join(reader.fieldnames or []) or 'nothing'}")
    counts: dict[tuple[str, str], float] = {}
    for line_no, row in enumerate(reader, start=2):
        band, sex, value = (row.get("age_band") or "").strip(), (row.get("sex") or "").strip(), \
            (row.get("population") or "").strip()
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not band or not sex or number < 0:
            raise StandardPopulationError(f"{path}: data line {line_no - 1} ({','.join(row.values())}) needs an "
                                          "age band, a sex and a population of 0 or more")
        if (band, sex) in counts:
            raise StandardPopulationError(f"{path}: {band},{sex} is given twice; keep one line per age band and sex")
        counts[(band, sex)] = number
    if not counts or sum(counts.values()) <= 0:
        raise StandardPopulationError(f"{path}: no population; give one line per age band and sex")
    return StandardPopulation(str(path), counts, source, header)


def _continued(comments: Sequence[str]) -> list[str]:
    out = []
    for c in comments:
        if not c.startswith("   "):
            break
        out.append(c)
    return out


def check_bands(std: StandardPopulation, bands: Sequence[str]) -> None:
    """Refuse a reference population whose age bands or sexes are not the
    survey's: every survey band must be given for each sex, and nothing else
    (``RPT-021``, with the lines to add or remove)."""
    wanted = {(b, s) for b in bands for s in SEXES}
    missing = sorted(wanted - set(std.counts), key=lambda t: (list(bands).index(t[0]), t[1]))
    unknown = sorted(set(std.counts) - wanted)
    if missing or unknown:
        parts = []
        if missing:
            parts.append("add " + "; ".join(f"{b},{s}" for b, s in missing))
        if unknown:
            parts.append("remove (not an age band and sex of the survey) " + "; ".join(f"{b},{s}" for b, s in unknown))
        raise StandardPopulationError(
            f"--standard-population {std.path}: its age bands do not match the survey's "
            f"({', '.join(bands)}; sexes {', '.join(SEXES)}): {' and '.join(parts)}", code="RPT-021")


@dataclass(frozen=True)
class Standardised:
    """A directly standardised share (0-1) with its Fay-Feuer 95 % interval."""

    rate: float
    lo: float
    hi: float


def direct(strata: Sequence[tuple[float, float, float]], alpha: float = 0.05) -> Standardised | None:
    """Directly standardised rate of ``strata`` (cases, persons, standard
    population) with the gamma interval of Fay and Feuer (1997).

    Strata of zero standard population are ignored; None when a stratum
    with a standard population has no person (its share is unknown: the
    figure cannot be standardised). The upper bound of a share is capped at 1.
    """
    used = [(x, n, w) for x, n, w in strata if w > 0]
    total = sum(w for _, _, w in used)
    if not used or total <= 0 or any(n <= 0 for _, n, _ in used):
        return None
    weights = [(x, n, w / total) for x, n, w in used]
    rate = sum(w * x / n for x, n, w in weights)
    var = sum(w * w * x / (n * n) for x, n, w in weights)
    wm = max(w / n for _, n, w in weights)
    # Imported here: only a release that standardises pays for it.
    from scipy.special import gammaincinv

    lo = 0.0 if var <= 0 or rate <= 0 else float(var / rate * gammaincinv(rate * rate / var, alpha / 2))
    hi = float((var + wm * wm) / (rate + wm) * gammaincinv((rate + wm) ** 2 / (var + wm * wm), 1 - alpha / 2))
    return Standardised(rate, lo, min(hi, 1.0))


def standardise_groups(strata: Mapping[str, Mapping[tuple[str, str], tuple[int, int]]],
                       std: StandardPopulation,
                       reached: set[tuple[str, str]] | None = None) -> dict[str, Standardised | None]:
    """Standardise each group's (cases, persons) per (age band, sex).

    Only the strata in ``reached`` are used (default: those with a person
    in any group): strata the survey did not reach at all (a site for adults
    only) are left out of the standard, and the caller says which. A group
    with no person in a stratum that is used gets None."""
    if reached is None:
        reached = {key for per in strata.values() for key, (_, n) in per.items() if n > 0}
    out: dict[str, Standardised | None] = {}
    for group, per in strata.items():
        rows = [(float(per.get(key, (0, 0))[0]), float(per.get(key, (0, 0))[1]), w)
                for key, w in std.counts.items() if key in reached]
        out[group] = direct(rows)
    return out
