"""Synthetic responses through the real sealing path, for demos and benchmarks.

Each synthetic patient walks the survey with :class:`kiosk.flow.Respondent`
(so skip logic, constraints and "prefer not to answer" behave exactly as on
the kiosk), then the response body is signed and sealed with
:func:`kiosk.sealing.seal` and the envelopes are written as a bundle with
:func:`surveycore.bundle.write_bundle`, ready for ``analysis ingest``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surveycore import types
from surveycore.bundle import write_bundle
from surveycore.definitions import record_of
from surveycore.keys import load_public_key
from surveycore.questionnaire import Item, Survey, load_survey
from surveycore.response import max_body_size, response_body
from kiosk.definitions import block_of
from kiosk.flow import Respondent
from kiosk.keys import load_device_key
from kiosk.sealing import seal


@dataclass(frozen=True)
class Behaviour:
    """How synthetic patients behave (probabilities)."""

    decline: float = 0.05
    abandon_per_screen: float = 0.01
    prefer_not: float = 0.03
    skip_optional: float = 0.02
    test_mode: float = 0.0
    weeks: int = 26


def _random_answer(item: Item, rng: random.Random) -> Any:
    # How a synthetic patient answers is its type's to say (None: refuse).
    simulate = types.get(item.type).simulate
    assert simulate is not None  # a registered answering type has one
    return simulate(item, rng)


def walk(survey: Survey, lang: str, rng: random.Random, behaviour: Behaviour = Behaviour()) -> tuple[Respondent, str]:
    """One synthetic patient; returns the respondent and ``complete`` or ``partial``."""
    r = Respondent(survey, lang)
    while not r.finished:
        item = r.current
        assert item is not None
        if rng.random() < behaviour.abandon_per_screen:
            return r, "partial"
        if not item.is_question:
            r.next()
            continue
        if rng.random() < behaviour.prefer_not:
            r.prefer_not()
            continue
        if not item.required and rng.random() < behaviour.skip_optional:
            if r.next() is None:
                continue
        value = _random_answer(item, rng)
        if types.get(item.type).multi:
            r.set_pending(value)
            if r.next() is None:
                continue
        elif value is not None:
            for _ in range(20):  # constraints: draw again, then give up politely
                if r.answer(value) is None:
                    break
                value = _random_answer(item, rng)
            else:
                r.prefer_not()
            continue
        r.prefer_not()
    return r, "complete"


def simulate(n: int, survey_path: str | Path, public_key_path: str | Path, device_key_path: str | Path,
             out: str | Path, seed: int | None = None, behaviour: Behaviour = Behaviour(),
             module_dirs: list[str | Path] | None = None, today: dt.date | None = None,
             start: dt.date | None = None) -> dict[str, int]:
    """Write a bundle of ``n`` sealed synthetic responses; return counts per status.

    ``seed`` makes the answers reproducible (envelope ids stay random, as
    they must). Periods are spread over ``behaviour.weeks`` weeks: from the
    week of ``start`` when given, else the last weeks before ``today``. The
    bundle carries the survey's definitions, signed by the device key, as a
    kiosk's export does.
    """
    survey = load_survey(survey_path, [Path(d) for d in (module_dirs or [])])
    public = load_public_key(public_key_path)
    device = load_device_key(device_key_path)
    rng = random.Random(seed)
    languages = survey.offered_languages() or list(survey.site.languages)
    pad = max_body_size(survey)
    end = today or dt.date.today()
    if start is not None:
        # The last day of the span that begins on the Monday of start's week.
        end = start - dt.timedelta(days=start.weekday()) + dt.timedelta(days=7 * max(1, behaviour.weeks) - 1)
    envelopes: list[bytes] = []
    counts = {"complete": 0, "partial": 0, "declined": 0, "test": 0}
    for _ in range(n):
        lang = rng.choice(languages)
        day = end - dt.timedelta(days=rng.randrange(7 * max(1, behaviour.weeks)))
        test = rng.random() < behaviour.test_mode
        if rng.random() < behaviour.decline:
            body = response_body(survey, lang, "declined", {}, [], day, test=test)
            status = "declined"
        else:
            respondent, status = walk(survey, lang, rng, behaviour)
            body = respondent.body(status, day, test=test)
        envelopes.append(seal(body, public, device, pad))
        counts[status] += 1
        counts["test"] += int(test)
    write_bundle(out, envelopes, block_of([record_of(survey)], device))
    return counts
