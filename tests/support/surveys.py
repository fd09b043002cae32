"""Small inline surveys and site survey files: the flow survey that uses every
item type (with a crisis score and a staff PIN), and a centre's own copy
of the full survey."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.envelopes import open_envelope
from kiosk.config import load_config
from kiosk.keys import create_device_key
from kiosk.pin import set_pin
from kiosk.simulate import simulate
from kiosk.store import Outbox
from tests.support.driver import click, start
from tests.support.kiosks import TeamKeys, inline_kiosk
from tests.support.paths import QUESTIONNAIRES


# A module that uses every item type, with a crisis score.
MODULE = """
id: flowtest
version: 1.0.0
title: {en: Flow test, fr: Test du parcours}
source: test fixture
license: CC0
languages: {en: validated, fr: validated}
choices:
  yn:
    - {code: "1", label: {en: "Yes", fr: Oui}}
    - {code: "2", label: {en: "No", fr: Non}}
  care:
    - {code: dent, label: {en: Dentist, fr: Dentiste}}
    - {code: eyes, label: {en: Glasses, fr: Lunettes}}
  freq:
    - {code: "0", label: {en: Not at all, fr: Jamais}}
    - {code: "1", label: {en: Several days, fr: Plusieurs jours}}
items:
  - id: intro
    type: note
    text: {en: A few questions about smoking., fr: Quelques questions sur le tabac.}
  - id: smoker
    type: single
    text: {en: Do you smoke?, fr: Fumez-vous ?}
    choices: yn
  - id: cigs
    type: integer
    text: {en: How many cigarettes a day?, fr: Combien de cigarettes par jour ?}
    min: 1
    max: 80
    required: true
    relevant: "${smoker} = '1'"
    constraint: "${cigs} <= 60"
    constraint_message: {en: At most 60 please., fr: 60 au plus svp.}
  - id: forgo
    type: multiple
    text: {en: Which care did you go without?, fr: À quels soins avez-vous renoncé ?}
    choices: care
    required: true
  - id: mood
    type: single
    text: {en: Thoughts that you would be better off dead?, fr: Penser qu'il vaudrait mieux mourir ?}
    choices: freq
scores:
  - id: self_harm
    items: [mood]
    values: {"0": 0, "1": 1}
    positive_at: 1
    crisis: true
"""


SURVEY = """
id: flowsurvey
version: 1.0.0
modules:
  - {id: flowtest, version: 1.0.0}
site:
  centre: TEST
  languages: [en, fr]
  keep_partial: true
  crisis: {en: "Call 3114, day and night.", fr: "Appelez le 3114, jour et nuit."}
"""


PIN = "246810"


@pytest.fixture
def flow_kiosk(tmp_path: Path, team) -> Path:
    """A kiosk running the flow survey, with the staff PIN set."""
    cfg = inline_kiosk(tmp_path / "kiosk", team, SURVEY, {"flowtest.yaml": MODULE})
    set_pin(cfg.parent / "staff.pin", PIN)
    return cfg


def bodies(config: Path, team) -> list[dict]:
    """The opened bodies of every envelope in this kiosk's outbox."""
    outbox = Outbox(load_config(config).outbox_path)
    try:
        return [open_envelope(env, team.keys)[0] for _, env in outbox.pending()]
    finally:
        outbox.close()


def staff_login(monkeypatch, config: Path, pin: str = PIN):
    """A fresh session that went through the staff door with ``pin``."""
    at = start(monkeypatch, config)
    click(at, "staff-door")
    assert [t.value for t in at.title] == ["Staff area"]
    at.text_input(key="staff-pin").input(pin)
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception
    return at

def site_survey(folder: Path, centre: str, survey_id: str, places: list[tuple[str, str]]) -> Path:
    """A site survey file: full_survey.yaml with its own centre and
    neighbourhood list, alone in ``folder`` (its modules stay in
    questionnaires/)."""
    text = (QUESTIONNAIRES / "full_survey.yaml").read_text(encoding="utf-8")
    start, end = text.index("    neighbourhood:"), text.index("  crisis:")
    lines = ["    neighbourhood:\n"] + [f"      - code: {code}\n        label: \"{label}\"\n"
                                        for code, label in places]
    text = text[:start] + "".join(lines) + text[end:]
    text = text.replace("centre: CSC-DEMO", f"centre: {centre}").replace("id: full_survey", f"id: {survey_id}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{survey_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


SAINT_DENIS = [("floreal", "Floréal"), ("franc_moisin", "Franc-Moisin"), ("elsewhere", "Ailleurs")]


SITE_SURVEY = """id: {sid}
version: "1.0.0"
title: {{en: "{centre} survey", fr: "Enquête {centre}"}}
modules:
{modules}site:
  centre: {centre}
  languages: [fr]
  crisis:
    fr: "3114, jour et nuit."
    en: "3114, day and night."
"""


def bumped(name: str, *changes: tuple[str, str]) -> str:
    """The shipped module ``name`` as version 1.1.0 with each ``(old, new)`` of ``changes`` made."""
    text = (QUESTIONNAIRES / name).read_text(encoding="utf-8")
    assert text.count('version: "1.0.0"') == 1
    text = text.replace('version: "1.0.0"', 'version: "1.1.0"')
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def versioned_site(folder: Path, centre: str, modules: list[str], version: str, edited: dict[str, str],
                   team: TeamKeys, n: int, seed: int) -> Path:
    """One centre whose survey pins the shipped ``modules`` at ``version``,
    with the module files of ``edited`` ({file name: YAML text}) beside it,
    and a bundle of ``n`` simulated responses; returns the bundle."""
    folder.mkdir(parents=True)
    pins = "".join(f'  - {{id: {m}, version: "{version}"}}\n' for m in modules)
    (folder / "survey.yaml").write_text(SITE_SURVEY.format(sid=centre.lower().replace("-", "_"), centre=centre,
                                                           modules=pins), encoding="utf-8")
    for name, text in edited.items():
        (folder / name).write_text(text, encoding="utf-8")
    create_device_key(folder / "device.key")
    bundle = folder / "b.hkb"
    simulate(n, folder / "survey.yaml", team.dir / "team.pub", folder / "device.key", bundle, seed=seed,
             module_dirs=[QUESTIONNAIRES])
    return bundle

