"""Hand-built datasets in the layout of analysis.ingest, their releases with
exact counts, and the content of a dataset without its row ids."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import polars as pl

from analysis.disclosure import Protection
from analysis.ingest import ANSWER_SCHEMA, RESPONSE_SCHEMA, module_index, scan_answers, scan_responses
from analysis.report import release_from_frames


MODULE_T = """
id: t
version: 1.0.0
title: {en: Test module, fr: Module test}
source: tests
license: tests
languages: {en: validated, fr: validated}
items:
  - id: q1
    type: single
    text: {en: First question, fr: Première question}
    choices: [{code: a, label: {en: Apple, fr: Pomme}}, {code: b, label: {en: Banana, fr: Banane}}]
  - id: q2
    type: single
    text: {en: Second question, fr: Deuxième question}
    relevant: "${q1} = 'a'"
    choices: [{code: "1", label: {en: "Yes", fr: Oui}}, {code: "2", label: {en: "No", fr: Non}}]
  - id: q3
    type: multiple
    text: {en: Third question, fr: Troisième question}
    choices: [{code: x, label: {en: Ex, fr: Ix}}, {code: y, label: {en: Why, fr: Igrec}},
              {code: z, label: {en: Zed, fr: Zède}}]
"""


# A demographics module with the neighbourhood breakdown item.
MODULE_DEMO = """
id: demographics
version: 1.0.0
title: {en: You, fr: Vous}
source: tests
license: tests
languages: {en: validated, fr: validated}
items:
  - id: neighbourhood
    type: single
    text: {en: Neighbourhood, fr: Quartier}
    choices: [{code: n1, label: {en: North, fr: Nord}}, {code: n2, label: {en: South, fr: Sud}}]
"""


def write_modules(folder: Path, *texts: str) -> Path:
    """Write module YAML texts into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(texts):
        (folder / f"m{i}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


class Data:
    """Builds a dataset in the layout of analysis.ingest, row by row."""

    def __init__(self) -> None:
        self.responses: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self._n = 0

    def respond(self, answers: dict[str, Any], *, status: str = "complete", centre: str = "C1",
                lang: str = "fr", period: str = "2026-W10", test: bool = False, skipped: tuple[str, ...] = (),
                survey: str = "s", versions: dict[str, str] | None = None, times: int = 1) -> None:
        """Add ``times`` responses; ``answers`` maps ``module.item`` to a code,
        a list (multiple choice), None (prefer not to answer)."""
        for _ in range(times):
            self._n += 1
            rid = self._n
            self.responses.append({"rid": rid, "survey": survey, "survey_version": "1.0.0", "centre": centre,
                                   "period": period, "lang": lang, "status": status, "test": test})
            for key, value in answers.items():
                module, item = key.split(".", 1)
                version = (versions or {}).get(module, "1.0.0")
                base = {"rid": rid, "module": module, "major": int(version.split(".")[0]), "version": version,
                        "item": item}
                if value is None:
                    self.answers.append({**base, "state": "refused", "value": None})
                elif isinstance(value, list):
                    if not value:
                        self.answers.append({**base, "state": "none", "value": None})
                    self.answers.extend({**base, "state": "answered", "value": v} for v in value)
                else:
                    self.answers.append({**base, "state": "answered", "value": str(value)})
            for key in skipped:
                module, item = key.split(".", 1)
                version = (versions or {}).get(module, "1.0.0")
                self.answers.append({"rid": rid, "module": module, "major": int(version.split(".")[0]),
                                     "version": version, "item": item, "state": "skipped", "value": None})

    def write(self, folder: Path) -> Path:
        """Write the Parquet files; return ``folder``."""
        (folder / "responses").mkdir(parents=True, exist_ok=True)
        pl.DataFrame(self.responses, schema=RESPONSE_SCHEMA).write_parquet(folder / "responses" / "part-0.parquet")
        adf = pl.DataFrame(self.answers, schema=ANSWER_SCHEMA)
        for (module, major), group in adf.group_by(["module", "major"]):
            d = folder / "answers" / f"module={module}" / f"major={major}"
            d.mkdir(parents=True, exist_ok=True)
            group.drop("module", "major").write_parquet(d / "part-0.parquet")
        return folder


def release(data_dir: Path, qdir: Path, **kw: Any):  # type: ignore[no-untyped-def]
    """The release of a test dataset (only the test's modules). The counting
    is tested on true counts (no noise, no rules on groups, threshold k);
    the protection has its own tests (tests/e2e/test_attacks.py)."""
    kw.setdefault("protection", Protection.exact(kw.get("k", 11)))
    return release_from_frames(scan_responses(data_dir), scan_answers(data_dir), module_index([qdir]), [qdir], **kw)


def figures(view) -> dict:  # type: ignore[no-untyped-def]
    """(row, col) -> published count of a view (None when hidden)."""
    return {key: f.n for key, f in view.cells.items()}


def d1(tmp_path: Path) -> tuple[Path, Path]:
    """The reference dataset of this file (see the module docstring of each test)."""
    qdir = write_modules(tmp_path / "q", MODULE_T)
    d = Data()
    d.respond({"t.q1": "a", "t.q2": "1", "t.q3": ["x", "y"]}, centre="C1", times=30)
    d.respond({"t.q1": "b", "t.q3": ["x"]}, skipped=("t.q2",), centre="C2", times=20)
    d.respond({"t.q1": None, "t.q3": []}, skipped=("t.q2",), centre="C1", times=12)
    d.respond({"t.q1": "a"}, status="partial", centre="C2", times=15)
    d.respond({"t.q1": "b", "t.q3": ["z"]}, skipped=("t.q2",), test=True, times=5)
    d.respond({}, status="declined", times=11)
    return d.write(tmp_path / "data"), qdir

PHQ9_HIGH = {f"phq9.q{i}": "2" for i in range(1, 10)}   # total 18: moderately severe
PHQ9_LOW = {f"phq9.q{i}": "0" for i in range(1, 10)}    # total 0: minimal

def shipped_dataset(tmp_path: Path) -> Path:
    """A dataset on the shipped modules (questionnaires/): 51 respondents in
    two centres and three weeks, with exact figures known to the tests."""
    d = Data()
    common = {"survey": "full_survey", "lang": "en"}
    # C1 in week 10: 11 in bad health, food insecure, PHQ-9 of 18.
    d.respond({"mehm.general_health": "4", "mehm.chronic": "1", "hunger_vital_sign.worried": "often",
               "hunger_vital_sign.ran_out": "never", **PHQ9_HIGH}, centre="C1", period="2026-W10", times=11,
              **common)
    # C1 in week 12: 15 in very good health, not food insecure, PHQ-9 of 0.
    d.respond({"mehm.general_health": "1", "mehm.chronic": "2", "hunger_vital_sign.worried": "never",
               "hunger_vital_sign.ran_out": "never", **PHQ9_LOW}, centre="C1", period="2026-W12", times=15,
              **common)
    # C2 in week 11: 12 in good health, 12 food insecure, PHQ-9 of 18 for all.
    d.respond({"mehm.general_health": "2", "mehm.chronic": "2", "hunger_vital_sign.worried": "sometimes",
               "hunger_vital_sign.ran_out": "often", **PHQ9_HIGH}, centre="C2", period="2026-W11", times=12,
              **common)
    # C2 in week 11: 13 in good health, PHQ-9 of 0.
    d.respond({"mehm.general_health": "2", "mehm.chronic": "1", "hunger_vital_sign.worried": "never",
               "hunger_vital_sign.ran_out": "never", **PHQ9_LOW}, centre="C2", period="2026-W11", times=13,
              **common)
    return d.write(tmp_path / "data")

def content(data: Path) -> list[tuple]:
    """The dataset without row ids: each response with its sorted answers."""
    responses = scan_responses(data).collect()
    answers = scan_answers(data).collect()
    per: dict[str, list[tuple]] = {}
    for row in answers.iter_rows(named=True):
        per.setdefault(row["rid"], []).append(tuple(v for k, v in row.items() if k != "rid"))
    assert set(per) <= set(responses["rid"])
    return sorted(((tuple(v for k, v in row.items() if k != "rid"), tuple(sorted(per.get(row["rid"], []), key=repr)))
                   for row in responses.iter_rows(named=True)), key=repr)
