"""What a valid module or survey loads into: groups, media, hashes, site
lists, cross-module logic walked by the kiosk."""

from __future__ import annotations

from pathlib import Path

from surveycore.questionnaire import load_module, load_module_text, load_survey
from kiosk.flow import Respondent

MODULE = '''# comment
id: m
version: "2.1.0"
title: {fr: Titre, en: Title}
source: test
license: test
languages: {fr: validated, en: draft}
choices:
  yn:
    - {code: "y", label: {fr: Oui, en: "Yes"}, image: yes.png}
    - {code: "n", label: {fr: Non, en: "No"}}
items:
  - id: a
    type: single
    text: {fr: A ?, en: A?}
    choices: yn
    image: {fr: a_fr.png, en: a_en.png}
    audio: {fr: a_fr.mp3, en: a_en.mp3}
  - id: g
    type: group
    text: {fr: Groupe, en: Group}
    relevant: "${a} = 'y'"
    items:
      - {id: b, type: integer, text: {fr: B, en: B}, min: 0, max: 9, relevant: "${a} != ''"}
      - id: inner
        type: group
        items:
          - {id: c, type: note, text: {fr: C, en: C}}
'''


def test_groups_are_flattened_with_their_text_and_relevance(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(MODULE, encoding="utf-8")
    m = load_module(f)
    assert [it.id for it in m.items] == ["a", "b", "c"]
    assert m.major == 2
    b, c = m.item("b"), m.item("c")
    assert b.relevant == "(${a} = 'y') and (${a} != '')"
    assert c.relevant == "${a} = 'y'"
    assert b.group_text == c.group_text == {"fr": "Groupe", "en": "Group"}
    assert (b.minimum, b.maximum, b.line) == (0, 9, 24)


def test_media_paths_are_resolved_next_to_the_module(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(MODULE, encoding="utf-8")
    warnings: list = []
    a = load_module(f, warnings=warnings).item("a")
    assert a.images == {"fr": str(tmp_path / "a_fr.png"), "en": str(tmp_path / "a_en.png")}
    assert a.image == str(tmp_path / "a_fr.png")
    assert a.audio == {"fr": str(tmp_path / "a_fr.mp3"), "en": str(tmp_path / "a_en.mp3")}
    assert a.choices[0].image == str(tmp_path / "yes.png")
    assert sorted({w.code for w in warnings}) == ["Q-MEDIA-002"]  # the files are not there
    for name in ("a_fr.png", "a_en.png", "a_fr.mp3", "a_en.mp3", "yes.png"):
        (tmp_path / name).write_bytes(b"x")
    warnings.clear()
    load_module(f, warnings=warnings)
    assert warnings == []


def test_hash_ignores_layout_and_follows_wording(tmp_path: Path) -> None:
    base = load_module_text(MODULE).hash
    assert load_module_text(MODULE.replace("# comment", "# another comment\n\n")).hash == base
    assert load_module_text(MODULE.replace("A ?", "A  ?")).hash != base


def test_site_lists_and_cross_module_logic_in_a_survey(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MODULE, encoding="utf-8")
    (tmp_path / "n.yaml").write_text('''id: n
version: "1.0.0"
title: {fr: N, en: N}
source: test
license: test
languages: {fr: validated, en: validated}
items:
  - {id: d, type: note, text: {fr: D, en: D}, relevant: "selected(${m.a}, 'n')"}
''', encoding="utf-8")
    f = tmp_path / "s.yaml"
    f.write_text('''id: s
version: "1.0.0"
modules: [{id: m, version: "2.1.0"}, {id: n, version: "1.0.0"}]
site:
  centre: C1
  languages: [fr, en]
  choices:
    yn:
      - {code: "y", label: {fr: Oui, en: "Yes"}}
      - {code: "n", label: {fr: Non, en: "No"}}
      - {code: "dk", label: {fr: Ne sait pas, en: "Don't know"}}
''', encoding="utf-8")
    warnings: list = []
    survey = load_survey(f, warnings=warnings)
    assert [w.code for w in warnings if w.code != "Q-MEDIA-002"] == ["Q-LANG-007"]  # en is a draft in m
    assert survey.offered_languages() == ["fr"]
    assert [c.code for c in survey.module("m").item("a").choices] == ["y", "n", "dk"]
    r = Respondent(survey, "fr")
    assert r.answer("n") is None
    assert r.current is not None and r.current.key == "n.d"  # m's group skipped, n.d shown
    assert r.next() is None and r.finished
