"""Age- and sex-standardised shares of the key indicators: the method on
hand-computable cases, the shipped reference population, a team's own file,
and the report's comparisons and methods."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from scipy.stats import gamma

from analysis import cli as analysis_cli
from analysis import report, standardise
from analysis.report import render_html
from surveycore.questionnaire import load_module
from tests.support.datasets import Data, release

REPO = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = REPO / "questionnaires"
BANDS = [c.code for c in load_module(QUESTIONNAIRES / "demographics.yaml").item("age_band").choices]
DEMOGRAPHICS = {"demographics": load_module(QUESTIONNAIRES / "demographics.yaml").version}
BREAKDOWNS = {"centre": "centre", "age_band": "demographics.age_band", "gender": "demographics.gender"}


def test_two_strata_by_hand() -> None:
    # Equal standard weights: (10/100 + 30/100) / 2 = 20 %.
    r = standardise.direct([(10, 100, 100), (30, 100, 100)])
    assert r is not None and r.rate == pytest.approx(0.2)
    # Fay-Feuer: variance = sum w^2 x / n^2 = 0.25 * (10 + 30) / 100^2 = 0.001; wm = 0.5 / 100 = 0.005.
    # Lower: gamma(shape 0.2^2 / 0.001 = 40, scale 0.001 / 0.2 = 0.005) at 2.5 %;
    # upper: gamma(shape 0.205^2 / 0.001025 = 41, scale 0.001025 / 0.205 = 0.005) at 97.5 %.
    assert r.lo == pytest.approx(gamma.ppf(0.025, 40, scale=0.005))
    assert r.hi == pytest.approx(gamma.ppf(0.975, 41, scale=0.005))
    assert (round(100 * r.lo, 1), round(100 * r.hi, 1)) == (14.3, 27.2)


def test_the_standard_weights_not_the_groups_own_structure() -> None:
    # The group is mostly young (90 of 100), the standard mostly old (3 to 1):
    # 0.25 * 10 % + 0.75 * 50 % = 40 %, whatever the group's own age structure.
    r = standardise.direct([(9, 90, 1000), (5, 10, 3000), (0, 0, 0)])
    assert r is not None and r.rate == pytest.approx(0.40)
    # A stratum of the standard with no respondent: no standardised figure.
    assert standardise.direct([(9, 90, 1000), (0, 0, 3000)]) is None
    # None concerned: the share is 0 and so is the lower bound.
    zero = standardise.direct([(0, 50, 1), (0, 50, 1)])
    assert zero is not None and (zero.rate, zero.lo) == (0.0, 0.0)
    assert zero.hi == pytest.approx(gamma.ppf(0.975, 1, scale=0.01))


def test_the_shipped_reference_population_names_its_source_and_matches_the_survey() -> None:
    std = standardise.load()
    text = standardise.DEFAULT_FILE.read_text(encoding="utf-8")
    for needle in ("Insee", "RP2018", "Licence Ouverte", "https://www.insee.fr/fr/statistiques/5397445", "2018"):
        assert needle in text
    assert std.source == "Insee, RP2018 exploitation principale, POP1B, France entière, géographie au 01/01/2021"
    assert std.bands == BANDS
    standardise.check_bands(std, BANDS)  # raises if not
    # Insee's RP2018 women 25-29 + 30-34: 1,939,465 + 2,080,811.
    assert std.counts[("25-34", "woman")] == 4_020_276
    # 75 and over, men: 75-79 to 100+.
    assert std.counts[("75_plus", "man")] == 962_304 + 758_101 + 464_287 + 180_987 + 36_409 + 3_736


# Insee, RP2018 exploitation principale, POP1B "Âge quinquennal", France
# entière (men, women), as published at
# https://www.insee.fr/fr/statistiques/5397445?geo=FE-1&sommaire=5397467
INSEE_POP1B_FIVE_YEAR = {
    15: (2_121_599, 2_007_360), 20: (1_891_915, 1_841_407), 25: (1_894_988, 1_939_465),
    30: (1_977_553, 2_080_811), 35: (2_047_307, 2_132_161), 40: (2_078_773, 2_131_118),
    45: (2_230_818, 2_280_135), 50: (2_193_469, 2_277_705), 55: (2_090_242, 2_218_884),
    60: (1_947_372, 2_136_018), 65: (1_861_206, 2_079_172), 70: (1_406_107, 1_625_770),
    75: (962_304, 1_216_917), 80: (758_101, 1_125_544), 85: (464_287, 871_288),
    90: (180_987, 463_804), 95: (36_409, 135_150), 100: (3_736, 17_392),
}


def test_every_cell_of_the_shipped_population_is_insee_s_published_table() -> None:
    """All 16 cells recomputed from Insee's five-year groups, with the
    15-19 group split as the file's header says (3/5 under 18)."""
    std = standardise.load()
    groups = {"25-34": (25, 30), "35-44": (35, 40), "45-54": (45, 50), "55-64": (55, 60),
              "65-74": (65, 70), "75_plus": (75, 80, 85, 90, 95, 100)}
    for i, sex in enumerate(("man", "woman")):
        fifteen = INSEE_POP1B_FIVE_YEAR[15][i]
        expected = {"under_18": round(fifteen * 3 / 5),
                    "18-24": round(fifteen * 2 / 5) + INSEE_POP1B_FIVE_YEAR[20][i]}
        expected |= {band: sum(INSEE_POP1B_FIVE_YEAR[a][i] for a in ages) for band, ages in groups.items()}
        assert {band: std.counts[(band, sex)] for band in expected} == expected
    assert sum(std.counts.values()) == sum(m + w for a, (m, w) in INSEE_POP1B_FIVE_YEAR.items() if a >= 15)


def _standard(tmp_path: Path, weights: dict[tuple[str, str], int], bands: list[str] = BANDS) -> Path:
    lines = ["# Source: a test standard", "age_band,sex,population"]
    lines += [f"{b},{s},{weights.get((b, s), 0)}" for b in bands for s in ("woman", "man")]
    path = tmp_path / "standard.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_file_whose_bands_do_not_match_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = _standard(tmp_path, {("25-34", "woman"): 1}, bands=[b for b in BANDS if b != "75_plus"] + ["75-84"])
    with pytest.raises(standardise.StandardPopulationError) as err:
        standardise.check_bands(standardise.load(path), BANDS)
    assert err.value.code == "RPT-021"
    assert err.value.message == (
        f"--standard-population {path}: its age bands do not match the survey's "
        f"({', '.join(BANDS)}; sexes woman, man): add 75_plus,man; 75_plus,woman and remove (not an age band "
        "and sex of the survey) 75-84,man; 75-84,woman")
    bad = tmp_path / "bad.csv"
    bad.write_text("band;sex;pop\n18-24;woman;3\n", encoding="utf-8")
    with pytest.raises(standardise.StandardPopulationError) as err:
        standardise.load(bad)
    assert err.value.code == "RPT-020" and "age_band,sex,population" in err.value.message


def _dataset(tmp_path: Path) -> Path:
    """Two centres with the same age-specific shares of bad health (10 % at
    25-34, 50 % at 65-74) but opposite age structures; a third centre with
    nobody aged 65-74; a fourth too small to publish."""
    d = Data()

    def group(centre: str, band: str, persons: int, bad: int) -> None:
        for health, times in (("4", bad), ("1", persons - bad)):
            d.respond({"demographics.age_band": band, "demographics.gender": "woman",
                       "mehm.general_health": health}, centre=centre, times=times, versions=DEMOGRAPHICS)

    group("C1", "25-34", 80, 8)
    group("C1", "65-74", 20, 10)
    group("C2", "25-34", 20, 2)
    group("C2", "65-74", 80, 40)
    group("C3", "25-34", 30, 15)
    group("C4", "25-34", 5, 2)
    return d.write(tmp_path / "data")


def test_standardised_shares_compare_centres_fairly(tmp_path: Path) -> None:
    std = standardise.load(_standard(tmp_path, {("25-34", "woman"): 1, ("65-74", "woman"): 1}))
    r = release(_dataset(tmp_path), QUESTIONNAIRES, breakdowns=BREAKDOWNS, standard=std)
    figs = r.standardised["bad_health"]["centre"]
    # Crude: 18 % and 42 %; standardised: 0.5 * 10 % + 0.5 * 50 % = 30 % for both.
    c1 = standardise.direct([(8, 80, 1), (10, 20, 1)])
    assert c1 is not None
    assert (figs["C1"].n, figs["C1"].pct, figs["C1"].lo, figs["C1"].hi) == (
        18, 30.0, round(100 * c1.lo, 1), round(100 * c1.hi, 1))
    assert (figs["C2"].n, figs["C2"].pct) == (42, 30.0)
    # C3 has nobody aged 65-74 (a stratum of the standard): not standardised.
    assert figs["C3"].pct is None
    # C4's crude share is hidden (5 persons): its standardised share too.
    assert figs["C4"].pct is None and figs["C4"].n is None
    text = render_html(r, "en")
    compare = text[text.index('id="compare-bad_health"'):]
    compare = html.unescape(re.sub(r"<[^>]+>", " ", compare[:compare.index("</figure>")]))
    assert (f"Centre — standardised on age and sex: C1 30.0% [{round(100 * c1.lo, 1)} – "
            f"{round(100 * c1.hi, 1)}] · 18; C2 30.0%") in compare
    assert "Centre: C1 18.0% [11.7 – 26.7] · 18; C2 42.0% [32.8 – 51.8] · 42" in compare
    assert ("Not standardised on age and sex (an age and sex group has no respondent, or too few persons): "
            "Centre: C3") in compare
    assert "Groups without a published share: Centre: C4 (< 11)" in compare
    assert "C4 30" not in compare and "C3 50.0% [" not in compare.split("standardised on age and sex")[1]
    methods = html.unescape(text[text.index('id="standardisation"'):])
    assert methods.startswith('id="standardisation">Age- and sex-standardised shares (comparisons by centre '
                              "and by neighbourhood): direct standardisation to the population by age band and "
                              "sex of a test standard.")
    assert "95% confidence interval by the gamma method of Fay and Feuer (1997)" in methods


def test_strata_nobody_reached_are_left_out_and_said(tmp_path: Path) -> None:
    # The shipped census standard on a dataset of women aged 25-34 and 65-74
    # only: the other age-sex groups are left out of the standard, and said.
    r = release(_dataset(tmp_path), QUESTIONNAIRES, breakdowns=BREAKDOWNS)
    assert r.standard_dropped == [(b, s) for s in ("woman", "man") for b in BANDS
                                  if (b, s) not in (("25-34", "woman"), ("65-74", "woman"))]
    census = standardise.load()
    w1, w2 = census.counts[("25-34", "woman")], census.counts[("65-74", "woman")]
    expected = (w1 * 0.1 + w2 * 0.5) / (w1 + w2)
    assert r.standardised["bad_health"]["centre"]["C1"].pct == round(100 * expected, 1)
    text = html.unescape(render_html(r, "fr"))
    assert "sexe de Insee, RP2018 exploitation principale, POP1B, France entière, géographie au 01/01/2021. Sont" in text
    dropped = text[text.index("Groupes d’âge et de sexe sans aucun répondant"):]
    assert dropped.startswith("Groupes d’âge et de sexe sans aucun répondant, retirés de la population de "
                              "référence : Une femme, Moins de 18 ans, Une femme, 18 à 24 ans, Une femme, 35 à 44 ans")
    assert "under_18" not in dropped.split("</p>")[0]


def test_the_report_command_refuses_a_mismatched_file_before_any_work(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = _dataset(tmp_path)
    path = _standard(tmp_path, {("25-34", "woman"): 1}, bands=BANDS[1:])
    out = tmp_path / "report.html"
    code = analysis_cli.main(["report", "--data", str(data), "--out", str(out), "--standard-population", str(path)])
    err = capsys.readouterr().err
    assert code != 0 and not out.exists()
    assert err.startswith("error: [RPT-021] --standard-population ") and "add under_18,man; under_18,woman" in err
    code = analysis_cli.main(["report", "--data", str(data), "--out", str(out), "--standard-population",
                              str(tmp_path / "absent.csv")])
    assert code != 0 and "[RPT-020]" in capsys.readouterr().err and not out.exists()


def test_a_survey_with_bands_of_its_own_gets_no_census_standardisation(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The shipped census bands do not fit: no standardised share, no error
    # (the dashboard and the report still work); a team's own file is refused.
    other = standardise.StandardPopulation("x.csv", {("0-99", "woman"): 1.0, ("0-99", "man"): 1.0})
    with pytest.raises(standardise.StandardPopulationError):
        release(_dataset(tmp_path / "b"), QUESTIONNAIRES, breakdowns=BREAKDOWNS, standard=other)
    path = tmp_path / "census.csv"
    path.write_text("age_band,sex,population\n0-99,woman,1\n0-99,man,1\n", encoding="utf-8")
    monkeypatch.setattr(standardise, "DEFAULT_FILE", path)
    r = release(_dataset(tmp_path / "c"), QUESTIONNAIRES, breakdowns=BREAKDOWNS)
    assert r.standardised == {} and "standardis" not in render_html(r, "en").split('id="methods"')[1]
