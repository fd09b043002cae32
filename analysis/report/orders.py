"""The order of questions in the surveys that ran (the drop-off table and
the report follow the survey's order, not the alphabet).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from surveycore.errors import ValidationError
from surveycore.questionnaire import Module, load_survey


def _semver(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


_ORDER_CACHE: dict[tuple, pl.DataFrame] = {}


def survey_orders(dirs: Sequence[str | Path]) -> pl.DataFrame:
    """Question order of every survey found in ``dirs``: survey
    (``id@version``), module, item, pos. Parsed again only when a file of
    ``dirs`` changed (the dashboard builds a release at every filter)."""
    signature = []
    for d in dirs:
        for f in sorted(Path(d).glob("*.yaml")):
            try:
                st_ = f.stat()
            except OSError:
                continue
            signature.append((str(f.resolve()), st_.st_mtime_ns, st_.st_size))
    key = (tuple(str(d) for d in dirs), tuple(signature))
    if key not in _ORDER_CACHE:
        if len(_ORDER_CACHE) > 32:
            _ORDER_CACHE.clear()
        _ORDER_CACHE[key] = _survey_orders(dirs)
    return _ORDER_CACHE[key]


def _survey_orders(dirs: Sequence[str | Path]) -> pl.DataFrame:
    records: list[dict[str, object]] = []
    seen: set[str] = set()
    for d in dirs:
        for f in sorted(Path(d).glob("*.yaml")):
            try:
                head = f.read_text(encoding="utf-8")
            except OSError:
                continue
            if "\nmodules:" not in "\n" + head:
                continue
            try:
                survey = load_survey(f, [Path(x) for x in dirs])
            except ValidationError:
                continue
            key = f"{survey.id}@{survey.version}"
            if key in seen:
                continue
            seen.add(key)
            pos = 0
            for it in survey.items:
                if it.is_question:
                    records.append({"survey": key, "module": it.module, "item": it.id, "pos": pos})
                    pos += 1
    return pl.DataFrame(records, schema={"survey": pl.String, "module": pl.String, "item": pl.String,
                                         "pos": pl.Int64})


def _fallback_order(surveys: Sequence[str], modules: Sequence[Module]) -> pl.DataFrame:
    """Order for surveys without a definition at hand: modules by id."""
    records = []
    for s in surveys:
        pos = 0
        for m in sorted(modules, key=lambda m: m.id):
            for it in m.items:
                if it.is_question:
                    records.append({"survey": s, "module": m.id, "item": it.id, "pos": pos})
                    pos += 1
    return pl.DataFrame(records, schema={"survey": pl.String, "module": pl.String, "item": pl.String,
                                         "pos": pl.Int64})
