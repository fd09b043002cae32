"""The questionnaire reader (ruamel's round-trip constructor on the plain
scanner and parser, which skip the gathering of comments) reads every text
exactly as ruamel's full round-trip reader does: the same values of the same
types, the same line numbers, the same errors at the same lines. A definition's
content hash, hence what a kiosk records, cannot change with it."""

from __future__ import annotations

import json
import warnings
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveycore.errors import ProblemList
from surveycore.questionnaire import content_hash, source
from surveycore.questionnaire.source import _line_of, _plain

REPO = Path(__file__).resolve().parents[2]


def _read(text: str, full: bool) -> tuple[Any, ...]:
    """What the loaders get from ``text``: the data (as canonical JSON, with
    every node's type and every key's line) and the problems (code, message,
    line); with ``full``, as before, with ruamel's full round-trip reader."""
    problems = ProblemList()
    with warnings.catch_warnings(), \
            mock.patch.dict(source._PARSED, clear=True), \
            mock.patch.object(source, "_yaml", partial(real_yaml, full=True) if full else real_yaml):
        warnings.simplefilter("ignore")  # ruamel warns of reused anchors
        data = source._parse_yaml_text(text, problems)
    found = [(p.code, p.message, p.line) for p in problems.items]
    if data is None:
        return (None, found)
    return (json.dumps(_plain(data), default=repr, ensure_ascii=False), _shape(data), found)


real_yaml = source._yaml


def _shape(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every node's path with its type, and every key's line."""
    out: list[tuple[str, Any]] = [(path, type(node).__name__)]
    if isinstance(node, dict):
        out.append((path, _line_of(node)))
        for k, v in node.items():
            out.append((f"{path}/{k!r}", _line_of(node, k)))
            out.extend(_shape(v, f"{path}/{k!r}"))
    elif isinstance(node, list):
        out.append((path, _line_of(node)))
        for i, v in enumerate(node):
            out.extend(_shape(v, f"{path}[{i}]"))
    return out


def test_every_questionnaire_file_reads_as_with_the_full_round_trip_reader() -> None:
    files = sorted(p for d in ("questionnaires", "examples", "tests") for p in (REPO / d).rglob("*.yaml"))
    assert len(files) >= 18
    for path in files:
        text = path.read_text(encoding="utf-8")
        ours = _read(text, full=False)
        assert ours[0] is not None and ours == _read(text, full=True), path
        with mock.patch.dict(source._PARSED, clear=True):
            data = source._parse_yaml_text(text, ProblemList())
        with mock.patch.dict(source._PARSED, clear=True), \
                mock.patch.object(source, "_yaml", partial(real_yaml, full=True)):
            before = source._parse_yaml_text(text, ProblemList())
        assert content_hash(data) == content_hash(before), path


# Pieces of YAML that exercise comments where they are odd, block scalars,
# flow collections, anchors, tags, merge keys, directives, tabs and BOMs.
PIECES = ["a", "b", "id", "x y", "1", "1.0", "0x1F", "true", "yes", "null", "~", "'q'", '"d"', '"\\/"', "é",
          "a:b", "a: b", ":", ": ", "-", "- ", "? ", "#", " #c", "# c\n", "[", "]", "{", "}", ",", "|", ">", "|-",
          ">+", "&a ", "*a", "!!str ", "!t ", "! ", "\n", "\n  ", "\n    ", "\n- ", "\n  - ", "  ", " ", "'", '"',
          "\\", "%", "@", "---", "...", "<<: ", "2026-01-05", "\r\n", "\u00a0", "\ufeff", "😀", "\\n", "''", '""',
          "a:", "b:", "\n  a: ", "\n  b: ", "\t", "%YAML 1.1\n", " # x\n", "\n# x\n"]


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=30).map("".join))
def test_any_text_reads_as_with_the_full_round_trip_reader(text: str) -> None:
    # Valid or not: the same data, or the same coded problems at the same
    # lines; except where the full reader itself trips (below).
    full = _read(text, full=True)
    if full == RUAMEL_TRIPS:
        assert _read(text, full=False)[0] is not None
        return
    assert _read(text, full=False) == full


# ruamel 0.19's comment gathering fails an internal assertion on a comment
# line followed by a block scalar at the top of a document ('#\n| #c'); the
# plain scanner reads that valid YAML, and the loaders then refuse it, as
# any file that is not a mapping.
RUAMEL_TRIPS = (None, [("Q-YAML-001", "not valid YAML: AssertionError; fix the indentation or quoting", None)])


def test_where_the_full_reader_trips_the_file_is_still_refused_with_its_reason(tmp_path: Path, capsys) -> None:
    from kiosk import cli as kiosk_cli
    text = "# a comment\n| # another\n  text\n"
    assert _read(text, full=True) == RUAMEL_TRIPS
    assert _read(text, full=False)[0] == '"text\\n"'
    path = tmp_path / "module.yaml"
    path.write_text(text, encoding="utf-8")
    assert kiosk_cli.main(["check", str(path)]) == 1
    assert capsys.readouterr().out == (f"{path}: error [Q-MOD-001] a module file must be a mapping with id, "
                                       "version, title, items; got 'text\\n'\n1 error(s), 0 warning(s)\n")
