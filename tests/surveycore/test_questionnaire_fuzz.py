"""Fuzzing the loaders: whatever a questionnaire file holds, loading it either
succeeds or raises :class:`ValidationError` with coded problems; never any
other exception (a site's staff must always get a message they can act on)."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from surveycore.errors import ProblemList, ValidationError
from surveycore.questionnaire import load_module_text, load_survey, parse_module, parse_survey

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
CODE = re.compile(r"^(Q|X)-[A-Z]+-\d{3}$")
FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Words the format uses, so random structures reach deep into the validator.
KEYS = ["id", "version", "title", "source", "license", "languages", "choices", "items", "scores", "type",
        "text", "hint", "required", "relevant", "constraint", "constraint_message", "min", "max", "image",
        "audio", "code", "label", "values", "weights", "any_of", "bands", "from", "range", "positive_at",
        "crisis", "intercept", "multiplier", "fr", "en", "ar", "yn", "a", "b", "q1", "modules", "site",
        "centre", "allow_free_text", "description", "text_"]
WORDS = ["single", "multiple", "scale", "integer", "note", "group", "text", "phone", "validated", "draft",
         "fr", "en", "yn", "a", "b", "q1", "1.0.0", "${a} = 'y'", "selected(${b}, 'n')", "${q1} >", "y", "n",
         "", " ", "media/x.png", "https://x", "../x", "1e999", "\x00", "é", "yes", "no", "~"]

# Numbers that break naive float()/int() handling.
ODD_NUMBERS = [10 ** 400, -(10 ** 400), float("inf"), float("nan"), 1e308, 2 ** 63, -0.0, 0.1 + 0.2]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10 ** 40), 10 ** 40), st.floats(allow_nan=True),
    st.sampled_from(ODD_NUMBERS), st.sampled_from(WORDS), st.text(max_size=12),
)
numbers = st.one_of(st.sampled_from(ODD_NUMBERS), scalars)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.integers(-3, 3), st.none(), st.booleans())
structures = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=6)),
    max_leaves=10,
)


def _item() -> st.SearchStrategy[dict[Any, Any]]:
    return st.fixed_dictionaries(
        {"id": st.sampled_from(["a", "b", "q1", "Bad id", ""]),
         "type": st.sampled_from(["single", "multiple", "scale", "integer", "note", "group", "text", "date", "x"])},
        optional={"text": st.one_of(st.fixed_dictionaries({"fr": st.sampled_from(WORDS)}), scalars),
                  "choices": st.one_of(st.sampled_from(["yn", "zz"]), structures),
                  "relevant": st.sampled_from(WORDS), "constraint": st.sampled_from(WORDS),
                  "min": numbers, "max": numbers, "required": scalars, "items": structures,
                  "image": st.sampled_from(WORDS), "audio": scalars, "hint": scalars,
                  "constraint_message": scalars})


def _score() -> st.SearchStrategy[dict[Any, Any]]:
    codes = st.sampled_from(["y", "n", "x", 1, True, None])
    points = st.dictionaries(codes, scalars, max_size=3)
    return st.fixed_dictionaries(
        {"id": st.sampled_from(["s", "t", "S"]),
         "items": st.one_of(st.lists(st.sampled_from(["a", "b", "q1", "zz"]), max_size=3), scalars)},
        optional={"values": st.one_of(points, scalars),
                  "weights": st.one_of(st.dictionaries(st.sampled_from(["a", "b", "zz"]), st.one_of(points, scalars),
                                                       max_size=2), scalars),
                  "any_of": st.one_of(st.dictionaries(st.sampled_from(["a", "b"]), st.one_of(st.lists(codes), scalars),
                                                      max_size=2), scalars),
                  "intercept": numbers, "multiplier": numbers, "positive_at": numbers, "crisis": scalars,
                  "bands": st.one_of(st.lists(st.fixed_dictionaries({"from": numbers, "label": scalars},
                                                                    optional={"text": structures}), max_size=3),
                                     scalars),
                  "range": st.one_of(st.lists(numbers, max_size=3), scalars), "label": structures})


modules = st.fixed_dictionaries(
    {"id": st.sampled_from(["m", "M", "", "m2"]), "version": st.sampled_from(["1.0.0", "1.0", "x"]),
     "items": st.one_of(st.lists(_item(), max_size=5), structures)},
    optional={"title": st.one_of(st.just({"fr": "T", "en": "T"}), structures),
              "source": scalars, "license": scalars,
              "languages": st.one_of(st.just({"fr": "validated", "en": "draft"}), structures),
              "choices": st.one_of(st.just({"yn": [{"code": "y", "label": {"fr": "O"}},
                                                   {"code": "n", "label": {"fr": "N"}}]}), structures),
              "scores": st.lists(st.one_of(_score(), st.dictionaries(st.sampled_from(KEYS), scalars, max_size=4)),
                                 max_size=2),
              "extra": structures},
)


def _assert_coded(exc: ValidationError) -> None:
    assert exc.problems, "a ValidationError always carries its problems"
    for p in exc.problems:
        assert CODE.match(p.code), p
        assert p.render()


def _dump(data: Any) -> str | None:
    """YAML text for a structure (None when YAML cannot represent it)."""
    buf = io.StringIO()
    try:
        YAML(typ="rt").dump(data, buf)
    except Exception:
        return None
    return buf.getvalue()


@FUZZ
@given(text=st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["id: m\n", "version: 1.0.0\n", "items:\n", "  - id: a\n", "    type: single\n",
                              "    text: {fr: A}\n", "- ", ": ", "{", "}", "[", "]", "&a ", "*a ", "!!binary ",
                              "!tag ", "? ", "|\n", ">\n", "'", "\"", "#", "\t", "%YAML 1.2\n", "---\n",
                              "...\n", "  ", "\n", "${a}", "\\u0000", "\ufeff"]),
             max_size=30).map("".join)))
@pytest.mark.slow
def test_fuzz_module_text(text: str) -> None:
    try:
        load_module_text(text)
    except ValidationError as exc:
        _assert_coded(exc)


@FUZZ
@given(data=st.one_of(modules, structures))
@pytest.mark.slow
def test_fuzz_module_structures(data: Any) -> None:
    problems = ProblemList(file="fuzz")
    module = parse_module(data, problems, "")
    assert (module is None) == bool(problems.errors)
    for p in problems.items:
        assert CODE.match(p.code), p


@settings(FUZZ, max_examples=100)
@given(data=st.one_of(modules, structures))
@pytest.mark.slow
def test_fuzz_module_structures_read_back_from_yaml(data: Any) -> None:
    # The same structures as ruamel's round-trip objects, with line numbers.
    text = _dump(data)
    if text is not None:
        try:
            load_module_text(text)
        except ValidationError as exc:
            _assert_coded(exc)


_DIR = Path(tempfile.mkdtemp(prefix="kiosk-fuzz-"))
shutil.copy(QUESTIONNAIRES / "mehm.yaml", _DIR / "mehm.yaml")

surveys = st.fixed_dictionaries(
    {"id": st.sampled_from(["s", "S"]), "version": st.sampled_from(["1.0.0", "1"]),
     "modules": st.one_of(st.just([{"id": "mehm", "version": "1.0.0"}]),
                          st.lists(st.dictionaries(st.sampled_from(["id", "version", "x"]),
                                                   st.sampled_from(["mehm", "1.0.0", "2.0.0", "x"]), max_size=3),
                                   max_size=3), structures)},
    optional={"site": st.one_of(
        st.fixed_dictionaries({"centre": st.sampled_from(["C", "bad centre"]),
                               "languages": st.one_of(st.just(["fr", "en"]), structures)},
                              optional={k: scalars for k in ("idle_timeout", "period", "keep_partial",
                                                             "allow_draft_languages", "allow_free_text")}
                              | {k: structures for k in ("choices", "crisis", "consent", "other")}),
        structures), "title": structures, "extra": structures},
)


@FUZZ
@given(data=st.one_of(surveys, structures))
@pytest.mark.slow
def test_fuzz_survey_structures(data: Any) -> None:
    problems = ProblemList(file="fuzz")
    survey = parse_survey(data, problems, _DIR / "survey.yaml")
    assert (survey is None) == bool(problems.errors)
    for p in problems.items:
        assert CODE.match(p.code), p


@settings(FUZZ, max_examples=50)
@given(data=surveys)
def test_fuzz_survey_files(data: Any) -> None:
    text = _dump(data)
    if text is None:
        return
    f = _DIR / "survey.yaml"
    f.write_text(text, encoding="utf-8")
    try:
        load_survey(f)
    except ValidationError as exc:
        _assert_coded(exc)
