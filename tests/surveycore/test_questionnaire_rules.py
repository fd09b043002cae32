"""Every validation rule, each stated by a tiny inline module or survey and
the exact message ``kiosk check`` prints for it (``Problem.render()``).

The messages are part of the product: they tell a site's staff where the
problem is and how to fix it, so a change of wording shows up here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from surveycore.errors import ValidationError
from surveycore.questionnaire import load_module, load_survey
from kiosk.check import check_paths

REPO = Path(__file__).resolve().parents[2]

HEAD = '''id: m
version: "1.0.0"
title: {fr: Titre, en: Title}
source: test
license: test
languages: {fr: validated, en: validated}
'''
YN = '''choices:
  yn:
    - {code: "y", label: {fr: Oui, en: "Yes"}}
    - {code: "n", label: {fr: Non, en: "No"}}
'''
Q1 = '''  - id: a
    type: single
    text: {fr: A, en: A}
    choices: yn
'''
SCORE_ITEMS = HEAD + YN + "items:\n" + Q1 + Q1.replace("id: a", "id: b") + "scores:\n"


def rendered(path: Path) -> list[str]:
    """What ``kiosk check PATH`` prints for each problem."""
    return [p.render() for p in check_paths([path])]


MODULE_RULES = [
    pytest.param(
        "id: m\n  version: 1\n",
        ['{f}:2: error [Q-YAML-001] not valid YAML: mapping values are not allowed here; fix the indentation or quoting'],
        id='Q-YAML-001'),
    pytest.param(
        HEAD + "id: n\n",
        ['{f}:7: error [Q-YAML-002] a key appears twice in the same mapping (found duplicate key "id" with value "n" (original value: "m")); keep only one'],
        id='Q-YAML-002'),
    pytest.param(
        "- a\n- b\n",
        ['{f}: error [Q-MOD-001] a module file must be a mapping with id, version, title, items; got "[\'a\', \'b\']"'],
        id='Q-MOD-001'),
    pytest.param(
        HEAD + "licence: x\n" + YN + "items:\n" + Q1,
        ["{f}:7: error [Q-MOD-002] unknown key 'licence'; did you mean 'license'?"],
        id='Q-MOD-002'),
    pytest.param(
        HEAD.replace("id: m", "id: My-Module") + YN + "items:\n" + Q1,
        ["{f}:1: error [Q-MOD-003] module id 'My-Module' must start with a lowercase letter and use only a-z, 0-9 and '_'"],
        id='Q-MOD-003'),
    pytest.param(
        HEAD.replace('"1.0.0"', "1.0") + YN + "items:\n" + Q1,
        ['{f}:2: error [Q-MOD-004] version \'1.0\' must be semantic, like 1.0.0 (write it in quotes: version: "1.0.0")'],
        id='Q-MOD-004'),
    pytest.param(
        HEAD.replace("source: test\n", "") + YN + "items:\n" + Q1,
        ["{f}:1: error [Q-MOD-005] 'source' is missing or not text; say where the wording comes from and under which licence it may be used"],
        id='Q-MOD-005'),
    pytest.param(
        HEAD + YN + "items:\n  - id: a\n    type: single\n    choices: yn\n",
        ["{f}:12: error [Q-TXT-001] item 'a': text is missing; give it as a map of language code to text, like {fr: '...', en: '...'}"],
        id='Q-TXT-001'),
    pytest.param(  # pyxform refuses a question without text; a blank screen is no question
        HEAD + YN + "items:\n  - id: a\n    type: single\n    text: {}\n    choices: yn\n",
        ["{f}:14: error [Q-TXT-001] item 'a': text is empty; give it as a map of language code to text, like {fr: '...', en: '...'}"],
        id='Q-TXT-001-empty'),
    pytest.param(  # an XLSForm answer placeholder would be shown as written
        HEAD + YN + "items:\n" + Q1 + "  - id: b\n    type: note\n    text: {fr: 'Vous avez dit ${a}', en: OK}\n",
        ["{f}:18: error [Q-TXT-005] item 'b': text in 'fr' holds '${a}': answers are not inserted into texts, so the patient would see it as written; rephrase the text without it"],
        id='Q-TXT-005'),
    pytest.param(  # drawn as Markdown: the browser fetched the picture from 203.0.113.7 as the screen was drawn
        HEAD + YN + "items:\n" + Q1 + "  - id: b\n    type: note\n    text: {fr: 'Voir ![carte](http://203.0.113.7/c.png)', en: 'See www.example.org'}\n",
        ["{f}:18: error [Q-TXT-006] item 'b': text in 'fr' holds '![carte](http://203.0.113.7/c.png)': texts are drawn as Markdown, so the patient's browser would fetch a picture from that address or follow a link off the kiosk; remove it (a picture goes in 'image:', a file next to the module; an address to note down is shown as text when written without 'www.' or 'https://', as 'sos-amitie.com')",
         "{f}:18: error [Q-TXT-006] item 'b': text in 'en' holds 'www.example.org': texts are drawn as Markdown, so the patient's browser would fetch a picture from that address or follow a link off the kiosk; remove it (a picture goes in 'image:', a file next to the module; an address to note down is shown as text when written without 'www.' or 'https://', as 'sos-amitie.com')"],
        id='Q-TXT-006'),
    pytest.param(
        HEAD + YN + "items:\n  - id: a\n    type: single\n    text: Quel âge ?\n    choices: yn\n",
        ["{f}:14: error [Q-TXT-002] item 'a': text must be a map of language code to text, like {fr: '...', en: '...'}; got 'Quel âge ?'"],
        id='Q-TXT-002'),
    pytest.param(
        HEAD + YN + "items:\n  - id: a\n    type: single\n    text: {fr: A, en: A, English: A}\n    choices: yn\n",
        ["{f}:14: error [Q-TXT-003] item 'a': text: 'English' is not a language code (use fr, en, ar, fa_AF, ti...)"],
        id='Q-TXT-003'),
    pytest.param(
        HEAD + YN + "items:\n  - id: a\n    type: single\n    text: {fr: A, en: ''}\n    choices: yn\n",
        ["{f}:6: error [Q-LANG-003] language 'en' is declared but lacks text for a; translate them or remove the language",
        "{f}:14: error [Q-TXT-004] item 'a': text in 'en' is empty or not text (''); write the text in quotes or remove the language"],
        id='Q-TXT-004'),
    pytest.param(
        HEAD.replace("languages: {fr: validated, en: validated}\n", "") + YN + "items:\n" + Q1,
        ["{f}: error [Q-LANG-001] 'languages' must map each language to 'validated' or 'draft', like {fr: validated, en: draft}"],
        id='Q-LANG-001'),
    pytest.param(
        HEAD.replace("en: validated", "en: reviewed") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-LANG-002] language 'en' has status 'reviewed'; use 'validated' (reviewed wording) or 'draft' (needs native review)"],
        id='Q-LANG-002'),
    pytest.param(
        HEAD.replace("en: validated", "en: {status: reviewed, origin: project}") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-LANG-002] language 'en' has status 'reviewed'; use 'validated' (reviewed wording) or 'draft' (needs native review)"],
        id='Q-LANG-002-provenance'),
    pytest.param(
        HEAD.replace("en: validated", "en: {status: draft, origin: project, licnece: x}") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-PROV-001] unknown 'en' provenance key 'licnece'; did you mean 'licence'?"],
        id='Q-PROV-001'),
    pytest.param(
        HEAD.replace("en: validated", "en: {status: draft, origin: translated}") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-PROV-002] language 'en' has origin 'translated'; use 'published' (the publisher's own translation) or 'project' (translated for this project)"],
        id='Q-PROV-002'),
    pytest.param(
        HEAD.replace("en: validated", "en: {status: draft}") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-PROV-002] language 'en' has origin nothing; use 'published' (the publisher's own translation) or 'project' (translated for this project)"],
        id='Q-PROV-002-missing'),
    pytest.param(
        HEAD.replace("en: validated", "en: {status: validated, origin: project}") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-PROV-003] language 'en' is a translation made for this project, so its status is 'draft'; only a publisher's validated translation (origin: published) may be 'validated'"],
        id='Q-PROV-003'),
    pytest.param(
        HEAD.replace("en: validated", "en: {status: validated, origin: published, publisher: Pfizer Inc.}") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-PROV-004] language 'en' is a validated published wording but lacks title, year, licence; say who published this wording, under which title, in which year and under which licence"],
        id='Q-PROV-004'),
    pytest.param(
        HEAD.replace("en: validated", "en: {status: draft, origin: published, publisher: P, year: 2010}") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-PROV-004] language 'en' is published but lacks title, licence; say who published this wording, under which title and under which licence"],
        id='Q-PROV-004-draft'),
    pytest.param(
        HEAD.replace("en: validated", 'en: {status: draft, origin: published, publisher: P, title: T, year: "2010", licence: L}') + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-PROV-005] language 'en': year '2010' must be a year, a number without quotes like 2010"],
        id='Q-PROV-005'),
    pytest.param(
        HEAD.replace("en: validated", "en: {status: draft, origin: project, note: [a, b]}") + YN + "items:\n" + Q1,
        ["{f}:6: error [Q-PROV-006] language 'en': note \"['a', 'b']\" must be text (write it in quotes)"],
        id='Q-PROV-006'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "review: {ar: {}}\n",
        ["{f}:16: error [Q-REV-001] review of 'ar', a language 'languages' does not declare; declare it or remove its review"],
        id='Q-REV-001'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "review:\n  en:\n    title: {state: reviewed, back: T, by: panel, date: '2026-11-29', who: x}\n",
        ["{f}:18: error [Q-REV-001] unknown review key 'who'; allowed keys are back, by, date, state"],
        id='Q-REV-001-key'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "review:\n  en:\n    items.b.text: {state: draft}\n",
        ["{f}:18: error [Q-REV-002] review of 'en' items.b.text: no such text in the module (name a text by its place, as in a translation file's msgctxt); did you mean 'items.a.text'?"],
        id='Q-REV-002'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "review:\n  en:\n    title: {state: done}\n",
        ["{f}:18: error [Q-REV-003] review of 'en' title: state 'done' must be one of draft, back-translated, reviewed, validated"],
        id='Q-REV-003'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "review:\n  en:\n    title: {state: reviewed, by: bilingual panel, date: '2026-11-29'}\n",
        ["{f}:18: error [Q-REV-004] review of 'en' title is reviewed but has no back-translation; the WHO method reviews a translation against its independent back-translation: give 'back'"],
        id='Q-REV-004'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "review:\n  en:\n    title: {state: reviewed, back: Titre, by: jane.doe@example.org, date: 29/11/2026}\n",
        ["{f}:18: error [Q-REV-005] review of 'en' title: 'by' 'jane.doe@example.org' must name a role (back-translator, bilingual panel, health mediator), never a person: no name, e-mail or phone, at most 60 characters",
         "{f}:18: error [Q-REV-005] review of 'en' title: 'date' '29/11/2026' must be a day written YYYY-MM-DD (in quotes)"],
        id='Q-REV-005'),
    pytest.param(
        HEAD.replace("en: validated", "en: draft") + YN + "items:\n" + Q1 + "review:\n  en:\n    title: {state: validated, back: Titre, by: bilingual panel, date: '2026-11-29'}\n",
        ["{f}:18: error [Q-REV-006] review of 'en' title is validated, but the language is a draft; a text is validated only in a validated language: mark it reviewed"],
        id='Q-REV-006'),
    pytest.param(
        HEAD + YN + "items:\n  - id: a\n    type: single\n    text: {fr: A}\n    choices: yn\n",
        ["{f}:6: error [Q-LANG-003] language 'en' is declared but lacks text for a; translate them or remove the language"],
        id='Q-LANG-003'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "    hint: {fr: Un seul choix}\n",
        ["{f}:6: warning [Q-LANG-005] language 'en' lacks hint of a; patients reading 'en' will not see them: translate them"],
        id='Q-LANG-005'),
    pytest.param(
        HEAD + YN + "items:\n  - id: a\n    type: single\n    text: {fr: A, en: A, ar: أ}\n    choices: yn\n",
        ["{f}:14: warning [Q-LANG-006] text in 'ar', which is not declared in 'languages'; declare it (validated or draft) or remove that text"],
        id='Q-LANG-006'),
    pytest.param(
        HEAD + "choices:\n  yn: []\n" + "items:\n" + Q1,
        ["{f}:8: error [Q-CHO-001] choice list 'yn' must be a non-empty list of {code, label}; got '[]'"],
        id='Q-CHO-001'),
    pytest.param(
        HEAD + "choices:\n  yn:\n    - {label: {fr: Oui, en: 'Yes'}}\n" + "items:\n" + Q1,
        ['{f}:9: error [Q-CHO-002] choice list \'yn\': each choice needs a \'code\' and a \'label\'; got "{\'label\': {\'fr\': \'Oui\', \'en\': \'Yes\'}}"'],
        id='Q-CHO-002'),
    pytest.param(
        HEAD + "choices:\n  yn:\n    - {code: true, label: {fr: Oui, en: 'Yes'}}\n" + "items:\n" + Q1,
        ['{f}:9: error [Q-CHO-003] choice list \'yn\': code \'True\' must be 1-32 letters, digits, \'_\' or \'-\' (quote it: code: "1")'],
        id='Q-CHO-003'),
    pytest.param(
        HEAD + "choices:\n  yn:\n    - {code: y, label: {fr: Oui, en: 'Yes'}}\n    - {code: y, label: {fr: Non, en: 'No'}}\n" + "items:\n" + Q1,
        ["{f}:10: error [Q-CHO-004] choice list 'yn': code 'y' appears twice; codes must be unique within a list"],
        id='Q-CHO-004'),
    pytest.param(
        HEAD + "items:\n  - id: a\n    type: single\n    text: {fr: A, en: A}\n",
        ["{f}:8: error [Q-CHO-005] item 'a': a single item needs 'choices': the name of a list or a list; got nothing"],
        id='Q-CHO-005'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "  - id: b\n    type: note\n    text: {fr: B, en: B}\n    choices: yn\n",
        ["{f}:19: error [Q-CHO-006] item 'b': a note item takes no 'choices'; remove them or change the type"],
        id='Q-CHO-006'),
    pytest.param(
        HEAD + "choices: [yn]\n" + "items:\n  - id: b\n    type: note\n    text: {fr: B, en: B}\n",
        ['{f}:7: error [Q-CHO-007] \'choices\' must map list names to lists of choices; got "[\'yn\']"'],
        id='Q-CHO-007'),
    pytest.param(
        HEAD + YN + "items:\n  - id: b\n    type: note\n    text: {fr: B, en: B}\n",
        ["{f}:8: warning [Q-CHO-008] choice list 'yn' is not used by any item; remove it or use it"],
        id='Q-CHO-008'),
    pytest.param(
        HEAD + YN.replace("  yn:", "  Yes-No:") + "items:\n" + Q1.replace("choices: yn", "choices: Yes-No"),
        ["{f}:8: error [Q-CHO-009] choice list name 'Yes-No' must start with a lowercase letter and use only a-z, 0-9 and '_'"],
        id='Q-CHO-009'),
    pytest.param(
        HEAD + YN.replace('{code: "y", ', '{code: "y", lable: x, ') + "items:\n" + Q1,
        ["{f}:9: error [Q-CHO-010] unknown choice key 'lable'; did you mean 'label'?"],
        id='Q-CHO-010'),
    pytest.param(
        HEAD + "items: []\n",
        ["{f}:7: error [Q-ITEM-001] 'items' must be a non-empty list of questions; got '[]'"],
        id='Q-ITEM-001'),
    pytest.param(
        HEAD + "items:\n  - just text\n",
        ["{f}:7: error [Q-ITEM-002] each item must be a mapping with at least 'id', 'type', 'text'; got 'just text'"],
        id='Q-ITEM-002'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1.replace("id: a", "id: Q1"),
        ["{f}:12: error [Q-ITEM-003] item 'Q1': item id 'Q1' must start with a lowercase letter and use only a-z, 0-9 and '_' (at most 64 characters)"],
        id='Q-ITEM-003'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "    requried: true\n",
        ["{f}:16: error [Q-ITEM-004] item 'a': unknown key 'requried'; did you mean 'required'?"],
        id='Q-ITEM-004'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1.replace("type: single", "type: select_one"),
        ["{f}:13: error [Q-ITEM-005] item 'a': unknown type 'select_one'; did you mean 'single'?"],
        id='Q-ITEM-005'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + Q1,
        ["{f}:16: error [Q-ITEM-006] item 'a': item id 'a' is used twice (first at line 12); ids must be unique in a module"],
        id='Q-ITEM-006'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "    required: 'yes'\n",
        ["{f}:16: error [Q-ITEM-007] item 'a': 'required' must be true or false; got 'yes'"],
        id='Q-ITEM-007'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "  - id: g\n    type: group\n    required: true\n    items:\n      - id: b\n        type: note\n        text: {fr: B, en: B}\n",
        ["{f}:18: error [Q-ITEM-008] item 'g': a group takes no 'required'; put it on the items inside"],
        id='Q-ITEM-008'),
    pytest.param(
        HEAD + "items:\n  - id: b\n    type: note\n    required: true\n    text: {fr: B, en: B}\n",
        ["{f}:10: warning [Q-ITEM-008] item 'b': a note takes no answer, so 'required' has no effect; remove it"],
        id='Q-ITEM-008w'),
    pytest.param(
        HEAD + "items:\n  - {id: g1, type: group, items: [{id: g2, type: group, items: [{id: g3, type: group, items: [{id: g4, type: group, items: [{id: g5, type: group, items: [{id: g6, type: group, items: [{id: g7, type: group, items: [{id: b, type: note, text: {fr: B, en: B}}]}]}]}]}]}]}]}\n",
        ['{f}:8: error [Q-ITEM-009] groups are nested more than 5 deep; flatten them'],
        id='Q-ITEM-009'),
    pytest.param(
        HEAD + "items:\n  - id: n\n    type: integer\n    text: {fr: N, en: N}\n    min: 5\n",
        ["{f}:8: error [Q-INT-001] item 'n': an integer item needs whole-number 'min' and 'max' with min <= max (a range keeps answers plausible); got min '5', max nothing"],
        id='Q-INT-001'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "    max: 3\n",
        ["{f}:16: error [Q-INT-002] item 'a': 'max' only applies to integer items; remove it or change the type"],
        id='Q-INT-002'),
    pytest.param(
        HEAD + "items:\n  - id: phone\n    type: phone\n    text: {fr: Tél, en: Phone}\n",
        ["{f}:9: error [Q-PRIV-001] item 'phone': type 'phone' would identify a person and is not allowed in an anonymous survey; ask in bands or categories instead (age band, region of birth)"],
        id='Q-PRIV-001'),
    pytest.param(
        HEAD + "items:\n  - id: other\n    type: text\n    text: {fr: Autre, en: Other}\n",
        ["{f}:9: error [Q-PRIV-002] item 'other': free text can identify a person; mark the item 'allow_free_text: true' only if it is essential (the site must also enable free text)"],
        id='Q-PRIV-002'),
    pytest.param(
        HEAD + "items:\n  - id: age\n    type: integer\n    text: {fr: Âge, en: Age}\n    min: 18\n    max: 110\n",
        ["{f}:8: warning [Q-PRIV-004] item 'age': an exact age or birth year can identify a patient; ask it as a single choice of age bands (18-24, 25-34, ...)"],
        id='Q-PRIV-004'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: \"${a} == 'y'\"\n",
        ['{f}:19: error [Q-EXP-001] item \'b\': relevant: cannot read expression "${a} == \'y\'": incomplete or misplaced operator near column 7 (write = to compare, not ==)'],
        id='Q-EXP-001'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: 3\n",
        ['{f}:19: error [Q-EXP-001] item \'b\': relevant: expected an expression in quotes, like "${q1} = \'1\'"; got \'3\''],
        id='Q-EXP-001b'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: \"${a} = 99999999999999999\"\n",
        ["{f}:19: error [Q-EXP-003] item 'b': relevant: number '99999999999999999' is out of range (at most 1e+15); use a plausible value"],
        id='Q-EXP-003'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1.replace("single", "multiple") + "  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: \"${a} = 'y'\"\n",
        ["{f}:19: error [Q-EXP-004] item 'b': relevant: ${a} is a multiple choice; test a code with selected(${a}, 'y') instead of ="],
        id='Q-EXP-004'),
    pytest.param(
        HEAD + "items:\n  - {id: n, type: integer, text: {fr: N, en: N}, min: 0, max: 9}\n  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: \"selected(${n}, '1')\"\n",
        ["{f}:12: error [Q-EXP-005] item 'b': relevant: selected(${n}, ...) needs a choice item, but ${n} is an integer item; compare it with =, < or > instead"],
        id='Q-EXP-005'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1.replace("choices: yn", "choices: yesno"),
        ["{f}:15: error [Q-REF-001] item 'a': choice list 'yesno' is not defined in 'choices'; defined lists: yn",
        "{f}:8: warning [Q-CHO-008] choice list 'yn' is not used by any item; remove it or use it"],
        id='Q-REF-001'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: \"${aa} = 'y'\"\n",
        ["{f}:19: error [Q-REF-002] item 'b': relevant refers to ${aa}, which is not an item of this module; did you mean 'a'?"],
        id='Q-REF-002'),
    pytest.param(
        HEAD + YN + "items:\n  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: \"${a} = 'y'\"\n" + Q1,
        ["{f}:15: error [Q-REF-004] item 'b': relevant refers to ${a}, which comes later; a question can only depend on earlier answers"],
        id='Q-REF-004'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "    relevant: \"${a} = 'y'\"\n",
        ["{f}:16: error [Q-REF-005] item 'a': relevant refers to ${a}, the item itself; it can only depend on earlier answers"],
        id='Q-REF-005'),
    pytest.param(
        HEAD + "items:\n  - {id: b, type: note, text: {fr: B, en: B}}\n  - {id: c, type: note, text: {fr: C, en: C}, relevant: \"${b} = ''\"}\n",
        ["{f}:9: error [Q-REF-005] item 'c': relevant refers to ${b}, a note, which has no answer; refer to a question"],
        id='Q-REF-005b'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: \"${a} = 'yes'\"\n",
        ["{f}:19: error [Q-REF-006] item 'b': relevant: 'yes' is not a choice of ${a}; its codes are y, n"],
        id='Q-REF-006'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1.replace("single", "multiple") + "  - id: b\n    type: note\n    text: {fr: B, en: B}\n    relevant: \"selected(${a}, 'Y')\"\n",
        ["{f}:19: error [Q-REF-006] item 'b': relevant: 'Y' is not a choice of ${a}; did you mean 'y'?"],
        id='Q-REF-006b'),
    pytest.param(
        HEAD + "items:\n  - {id: n, type: integer, text: {fr: N, en: N}, min: 0, max: 9, constraint: \"${n} != 5\"}\n",
        ["{f}:8: warning [Q-CON-001] item 'n': a constraint needs a 'constraint_message' telling the patient what to change, in each language"],
        id='Q-CON-001'),
    pytest.param(
        HEAD + "items:\n  - {id: n, type: integer, text: {fr: N, en: N}, min: 0, max: 9, constraint_message: {fr: Non, en: 'No'}}\n",
        ["{f}:8: warning [Q-CON-002] item 'n': 'constraint_message' without a 'constraint' is never shown; add the constraint or remove the message"],
        id='Q-CON-002'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "    image: https://example.org/a.png\n",
        ["{f}:16: error [Q-MEDIA-001] item 'a': image 'https://example.org/a.png' must be a file path relative to the module file (no URL, no absolute path, no '..'): the kiosk never loads anything from outside its folder"],
        id='Q-MEDIA-001'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "    audio: a.mp3\n",
        ["{f}:16: error [Q-MEDIA-001] item 'a': audio is spoken text, so it must be a map of language code to file path, like {fr: audio/q1_fr.mp3}; got 'a.mp3'"],
        id='Q-MEDIA-001b'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "    image: media/a.png\n",
        ["{f}:16: warning [Q-MEDIA-002] item 'a': image file 'media/a.png' not found next to the module; add the file or fix the path"],
        id='Q-MEDIA-002'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1 + "scores: {total: [a]}\n",
        ['{f}:16: error [Q-SCO-001] \'scores\' must be a list of scores; got "{\'total\': [\'a\']}"'],
        id='Q-SCO-001'),
    pytest.param(
        SCORE_ITEMS + "  - items: [a]\n",
        ['{f}:21: error [Q-SCO-002] each score needs an \'id\'; got "{\'items\': [\'a\']}"'],
        id='Q-SCO-002'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, values: {y: 1, n: 0}}\n",
        ["{f}:21: error [Q-SCO-003] score 's' lists no 'items'; give the item ids it adds up"],
        id='Q-SCO-003'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, c], values: {y: 1, n: 0}}\n",
        ["{f}:21: error [Q-SCO-004] score 's' uses item 'c', which is not in this module"],
        id='Q-SCO-004'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, b], values: {y: 1, n: 0}, bands: [{from: low, label: low}]}\n",
        ['{f}:21: error [Q-SCO-005] score \'s\': each band needs \'from\' (a number) and \'label\' (a code like moderate); got "{\'from\': \'low\', \'label\': \'low\'}"'],
        id='Q-SCO-005'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, b], values: {y: one, n: 0}}\n",
        ["{f}:21: error [Q-SCO-006] score 's': values 'y': 'one' must be an answer code mapped to a number"],
        id='Q-SCO-006'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a], values: {y: 1, n: 0}}\n  - {id: s, items: [b], values: {y: 1, n: 0}}\n",
        ["{f}:22: error [Q-SCO-007] score id 's' is used twice; score ids must be unique"],
        id='Q-SCO-007'),
    pytest.param(
        HEAD + YN + "items:\n" + Q1.replace("single", "multiple") + "scores:\n  - {id: s, items: [a], values: {y: 1, n: 0}}\n",
        ["{f}:17: error [Q-SCO-008] score 's' uses item 'a', a multiple item; scores add up single-choice or scale answers only"],
        id='Q-SCO-008'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, b], values: {y: 1, n: 0, yes: 1}}\n",
        ["{f}:21: error [Q-SCO-009] score 's': code 'yes' in values is not a choice of the score's items"],
        id='Q-SCO-009'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, b], values: {y: 1}}\n",
        ["{f}:21: error [Q-SCO-010] score 's': values give no points to code(s) n (item(s) a, b); an answer with such a code would leave the score empty: give it points"],
        id='Q-SCO-010'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a], weights: {a: {y: 2}, b: {y: 1}}}\n",
        ["{f}:21: error [Q-SCO-011] score 's': weights name item 'b', which is not in the score's items"],
        id='Q-SCO-011'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, b], values: {y: 1, n: 0}, bands: [{from: 1, label: some}, {from: 2, label: all}]}\n",
        ["{f}:21: error [Q-SCO-012] score 's': the lowest band starts at 1 but the score can be 0; start the first band at 0"],
        id='Q-SCO-012'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, b], values: {y: 1, n: 0}, bands: [{from: 0, label: none}, {from: 2, label: all}, {from: 1, label: some}]}\n",
        ["{f}:21: error [Q-SCO-012] score 's': bands must be in ascending order of 'from' with distinct bounds and labels; got 0 none, 2 all, 1 some"],
        id='Q-SCO-012b'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, b], values: {y: 1, n: 0}, range: [0, 3]}\n",
        ["{f}:21: error [Q-SCO-013] score 's': declared range [0, 3] but the items give [0, 2]; fix the points or the range"],
        id='Q-SCO-013'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a], values: {y: 1, n: 0}, crisis: true}\n",
        ["{f}:21: error [Q-SCO-014] score 's' is a crisis score but has no 'positive_at'; say from which value the kiosk shows crisis resources"],
        id='Q-SCO-014'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a], values: {y: 1, n: 0}, positive: 1}\n",
        ["{f}:21: error [Q-SCO-015] unknown score key 'positive'; did you mean 'positive_at'?"],
        id='Q-SCO-015'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a], values: {y: 1, n: 0}, weights: {a: {y: 1}}}\n",
        ["{f}:21: error [Q-SCO-016] score 's' must give exactly one of 'values' (points per code), 'weights' (points per item and code) or 'any_of' (items and codes that make it 1); got values, weights"],
        id='Q-SCO-016'),
    pytest.param(
        SCORE_ITEMS + "  - {id: s, items: [a, b], values: {y: 1, n: 0}, positive_at: 3}\n",
        ["{f}:21: error [Q-SCO-017] score 's': positive_at 3 is outside the score's range (0 to 2), so it never or always applies"],
        id='Q-SCO-017'),
    pytest.param(
        HEAD + "items:\n  - {id: b, type: note, text: {fr: B, en: B}}\n" + "x:\n  a: &a [o, o, o, o, o, o, o, o, o, o]\n" + "".join(f"  {c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcde", "bcdef")),
        ["{f}: error [Q-YAML-003] the definition expands to more than 200,000 values (YAML '&' anchors and '*' aliases that refer to each other?); write the content out without anchors and aliases"],
        id='Q-YAML-003'),

]


@pytest.mark.parametrize("text, expected", MODULE_RULES)
@pytest.mark.slow
def test_module_rule(tmp_path: Path, text: str, expected: list[str]) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(text, encoding="utf-8")
    assert rendered(f) == [e.replace("{f}", str(f)) for e in expected]


def test_a_clean_module_has_no_problem(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(HEAD + YN + "items:\n" + Q1, encoding="utf-8")
    assert rendered(f) == []
    assert load_module(f).item("a").choices[1].code == "n"


PROVENANCE = """languages:
  fr: validated
  en:
    status: validated
    origin: published
    publisher: "Pfizer Inc."
    title: "PHQ Screeners"
    year: 2005
    licence: "Free to reproduce"
    url: "https://www.phqscreeners.com/"
  ar: {status: draft, origin: project, note: "forward translation, not yet reviewed"}
"""


def test_a_language_may_record_its_provenance(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    text = (HEAD.replace("languages: {fr: validated, en: validated}\n", PROVENANCE) + YN + "items:\n" + Q1)
    text = text.replace("{fr: Titre, en: Title}", "{fr: Titre, en: Title, ar: عنوان}")
    text = text.replace("{fr: A, en: A}", "{fr: A, en: A, ar: أ}")
    text = text.replace('{fr: Oui, en: "Yes"}', '{fr: Oui, en: "Yes", ar: نعم}')
    text = text.replace('{fr: Non, en: "No"}', '{fr: Non, en: "No", ar: لا}')
    f.write_text(text, encoding="utf-8")
    assert rendered(f) == []
    m = load_module(f)
    # The short form and the long form give the same statuses.
    assert m.languages == {"fr": "validated", "en": "validated", "ar": "draft"}
    assert "fr" not in m.provenance
    assert m.provenance["en"].origin == "published"
    assert (m.provenance["en"].publisher, m.provenance["en"].year) == ("Pfizer Inc.", 2005)
    assert m.provenance["en"].url == "https://www.phqscreeners.com/"
    assert m.provenance["en"].summary() == "published: Pfizer Inc., 2005"
    assert m.provenance["ar"].summary() == "project"
    assert m.provenance["ar"].note == "forward translation, not yet reviewed"


def test_a_published_draft_may_leave_the_year_unknown(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(HEAD.replace("en: validated", "en: {status: draft, origin: published, publisher: P, title: T, "
                                               "licence: L, url: 'https://example.org/t'}") + YN + "items:\n" + Q1,
                 encoding="utf-8")
    assert rendered(f) == []
    prov = load_module(f).provenance["en"]
    assert (prov.year, prov.summary()) == (None, "published: P")


def test_a_long_form_language_must_still_be_complete(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(HEAD.replace("languages: {fr: validated, en: validated}\n", PROVENANCE) + YN + "items:\n" + Q1,
                 encoding="utf-8")
    assert rendered(f)[0] == (f"{f}:16: error [Q-LANG-003] language 'ar' is declared but lacks text for title, a, "
                              "a:y, a:n; translate them or remove the language")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(HEAD.replace('"1.0.0"', "one") + YN + "items:\n" + Q1.replace("choices: yn", "choices: yesno")
                 + "  - {id: b, type: note, text: {fr: B, en: B}, relevant: \"${c} = 'y'\"}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_module(f)
    assert [p.code for p in exc.value.problems] == ["Q-MOD-004", "Q-REF-001", "Q-CHO-008", "Q-REF-002"]
    assert exc.value.code == "Q-MOD-004"


# ------------------------------------------------------------------ surveys

MOD = '''id: m
version: "1.0.0"
title: {fr: Titre, en: Title}
source: test
license: test
languages: {fr: validated, en: draft}
choices:
  area:
    - {code: here, label: {fr: Ici, en: Here}}
    - {code: there, label: {fr: Là, en: There}}
items:
  - {id: a, type: single, text: {fr: A, en: A}, choices: area}
  - {id: c, type: note, text: {fr: C, en: C}}
scores:
  - {id: s, items: [a], values: {here: 0, there: 1}, positive_at: 1, crisis: true}
'''
# Refers to the module above: once correctly, then with three mistakes.
REFS = '''id: refs
version: "1.0.0"
title: {fr: R}
source: test
license: test
languages: {fr: validated}
items:
  - {id: b, type: note, text: {fr: B}, relevant: "${m.a} = 'here'"}
  - {id: d, type: note, text: {fr: D}, relevant: "${m.aa} = 'x' or ${m.a} = 'ici' or ${m.c} = ''"}
'''
FREE = '''id: free
version: "1.0.0"
title: {fr: F}
source: test
license: test
languages: {fr: validated}
items:
  - {id: t, type: text, text: {fr: Autre chose ?}, allow_free_text: true}
'''
SURVEY = '''id: s
version: "1.0.0"
modules:
  - {id: m, version: "1.0.0"}
site:
  centre: C1
  languages: [fr, en]
  allow_draft_languages: true
  crisis: {fr: "3114", en: "3114"}
'''


@pytest.fixture
def survey_dir(tmp_path: Path) -> Path:
    """A folder with a module (with a crisis score), a module referring to it
    and a module with a free-text item."""
    (tmp_path / "m.yaml").write_text(MOD, encoding="utf-8")
    (tmp_path / "refs.yaml").write_text(REFS, encoding="utf-8")
    (tmp_path / "free.yaml").write_text(FREE, encoding="utf-8")
    return tmp_path


SURVEY_RULES = [
    pytest.param(
        SURVEY + "modles: []\n",
        ["{d}/s.yaml:10: error [Q-SUR-002] unknown key 'modles'; did you mean 'modules'?"],
        id='Q-SUR-002'),
    pytest.param(
        SURVEY.replace("id: s\n", "id: S 1\n"),
        ["{d}/s.yaml:1: error [Q-SUR-003] survey id 'S 1' must start with a lowercase letter and use only a-z, 0-9 and '_'"],
        id='Q-SUR-003'),
    pytest.param(
        SURVEY.replace('version: "1.0.0"\nmodules', 'version: 1\nmodules'),
        ['{d}/s.yaml:2: error [Q-SUR-004] version \'1\' must be semantic, like 1.0.0 (write it in quotes: version: "1.0.0")'],
        id='Q-SUR-004'),
    pytest.param(
        SURVEY.replace('modules:\n  - {id: m, version: "1.0.0"}\n', "modules: []\n"),
        ["{d}/s.yaml:3: error [Q-SUR-005] 'modules' must list the modules in order, each as {id, version}"],
        id='Q-SUR-005'),
    pytest.param(
        SURVEY.replace('{id: m, version: "1.0.0"}', "{id: m}"),
        ['{d}/s.yaml:4: error [Q-SUR-006] each module entry needs \'id\' and \'version\', like {id: phq9, version: "1.0.0"}; got "{\'id\': \'m\'}"'],
        id='Q-SUR-006'),
    pytest.param(
        SURVEY.replace('{id: m, version: "1.0.0"}', '{id: m, version: "1.0.1"}'),
        ["{d}/s.yaml:4: error [Q-SUR-007] module 'm' version 1.0.1 not found in {d}; did you mean 'm 1.0.0'?"],
        id='Q-SUR-007'),
    pytest.param(
        SURVEY.replace('  - {id: m, version: "1.0.0"}\n', '  - {id: m, version: "1.0.0"}\n' * 2),
        ["{d}/s.yaml:5: error [Q-SUR-008] module 'm' is listed twice; a survey asks each module once"],
        id='Q-SUR-008'),
    pytest.param(
        SURVEY[:SURVEY.index("site:")],
        ["{d}/s.yaml: error [Q-SITE-001] 'site' must give at least 'centre' and 'languages'"],
        id='Q-SITE-001'),
    pytest.param(
        SURVEY + "  timeout: 30\n",
        ["{d}/s.yaml:10: error [Q-SITE-002] unknown site key 'timeout'; did you mean 'idle_timeout'?"],
        id='Q-SITE-002'),
    pytest.param(
        SURVEY.replace('{fr: "3114", en: "3114"}', '{fr: "3114"}'),
        ["{d}/s.yaml:9: error [Q-SITE-003] a module flags crises (e.g. PHQ-9 item 9) but site.crisis has no text in 'en'; name local crisis resources or use PHQ-8"],
        id='Q-SITE-003'),
    pytest.param(
        SURVEY.replace("centre: C1", "centre: Centre de santé"),
        ["{d}/s.yaml:6: error [Q-SITE-004] centre code 'Centre de santé' must be 1-32 letters, digits, '_' or '-'"],
        id='Q-SITE-004'),
    pytest.param(
        SURVEY.replace("  languages: [fr, en]\n", ""),
        ["{d}/s.yaml:6: error [Q-SITE-005] site 'languages' must list the enabled languages, e.g. [fr, en]; got nothing"],
        id='Q-SITE-005'),
    pytest.param(
        SURVEY + "  period: day\n",
        ["{d}/s.yaml:10: error [Q-SITE-006] period 'day' must be one of week, month, quarter (never finer: a time of day could identify a patient)"],
        id='Q-SITE-006'),
    pytest.param(
        SURVEY + "  idle_timeout: 5\n",
        ["{d}/s.yaml:10: error [Q-SITE-007] idle_timeout '5' must be whole seconds between 15 and 1800"],
        id='Q-SITE-007'),
    pytest.param(
        SURVEY + "  choices:\n    areas:\n      - {code: x, label: {fr: X, en: X}}\n",
        ["{d}/s.yaml:11: warning [Q-SITE-008] site list 'areas' has no effect: it replaces no choice list of the survey's modules; did you mean 'area'?"],
        id='Q-SITE-008'),
    pytest.param(
        SURVEY + "  keep_partial: 'no'\n",
        ["{d}/s.yaml:10: error [Q-SITE-009] keep_partial must be true or false; got 'no'"],
        id='Q-SITE-009'),
    pytest.param(
        SURVEY + "  choices: [area]\n",
        ['{d}/s.yaml:10: error [Q-SITE-010] site \'choices\' must map list names to lists of choices; got "[\'area\']"'],
        id='Q-SITE-010'),
    pytest.param(
        SURVEY.replace("[fr, en]", "[fr, English]"),
        ["{d}/s.yaml:7: error [Q-LANG-004] site language 'English' is not a language code (use fr, en, ar, fa_AF, ti...)"],
        id='Q-LANG-004'),
    pytest.param(
        SURVEY.replace("[fr, en]", "[fr, en, ar]"),
        ["{d}/s.yaml:7: warning [Q-LANG-007] site language 'ar' will not be offered: module(s) m lack it; translate them or remove the language"],
        id='Q-LANG-007'),
    pytest.param(
        SURVEY.replace("  allow_draft_languages: true\n", ""),
        ["{d}/s.yaml:7: warning [Q-LANG-007] site language 'en' will not be offered: it is only a draft in module(s) m; have it reviewed, or set site.allow_draft_languages: true"],
        id='Q-LANG-007-draft'),
    pytest.param(
        SURVEY.replace("[fr, en]", "[ar]"),
        ['{d}/s.yaml:7: error [Q-LANG-008] no site language is complete in every module, so the kiosk could offer no language; enable a language every module has',
        "{d}/s.yaml:7: warning [Q-LANG-007] site language 'ar' will not be offered: module(s) m lack it; translate them or remove the language"],
        id='Q-LANG-008'),
    pytest.param(
        SURVEY + "  choices:\n    area:\n      - {code: x, label: {fr: X}}\n",
        ["{d}/s.yaml:11: error [Q-LANG-009] site list 'area' lacks text in 'en' for x; translate it, write a place name once as plain text (label: \"Les Tilleuls\"), or remove the language"],
        id='Q-LANG-009'),
    pytest.param(
        SURVEY.replace('"1.0.0"}\n', '"1.0.0"}\n  - {id: free, version: "1.0.0"}\n').replace("[fr, en]", "[fr]"),
        ["{d}/free.yaml:8: error [Q-PRIV-003] item 't': module 'free' has a free-text item but the site does not enable free text; set site.allow_free_text: true only if it is essential, or remove the item"],
        id='Q-PRIV-003'),
    pytest.param(
        SURVEY.replace('"1.0.0"}\n', '"1.0.0"}\n  - {id: refs, version: "1.0.0"}\n').replace("[fr, en]", "[fr]"),
        ["{d}/refs.yaml:9: error [Q-REF-003] item 'd': relevant refers to ${m.aa}, which is not an item of an earlier module of the survey; did you mean 'm.a'?",
        "{d}/refs.yaml:9: error [Q-REF-005] item 'd': relevant refers to ${m.c}, a note, which has no answer; refer to a question",
        "{d}/refs.yaml:9: error [Q-REF-006] item 'd': relevant: 'ici' is not a choice of ${m.a}; its codes are here, there"],
        id='Q-REF-003'),

]


@pytest.mark.parametrize("text, expected", SURVEY_RULES)
@pytest.mark.slow
def test_survey_rule(survey_dir: Path, text: str, expected: list[str]) -> None:
    f = survey_dir / "s.yaml"
    f.write_text(text, encoding="utf-8")
    assert rendered(f) == [e.replace("{d}", str(survey_dir)) for e in expected]


def test_a_clean_survey_has_no_problem(survey_dir: Path) -> None:
    f = survey_dir / "s.yaml"
    f.write_text(SURVEY, encoding="utf-8")
    assert rendered(f) == []
    assert load_survey(f).offered_languages() == ["fr", "en"]


def test_survey_that_is_not_a_mapping(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("- {id: m, version: 1.0.0}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_survey(f)
    assert [p.render() for p in exc.value.problems] == [
        f"{f}: error [Q-SUR-001] a survey file must be a mapping with id, version, modules, site; got "
        "\"[{'id': 'm', 'version': '1.0.0'}]\""]


def test_two_files_defining_one_module_version(survey_dir: Path) -> None:
    (survey_dir / "m_copy.yaml").write_text(MOD.replace("title: {fr: Titre", "title: {fr: Autre titre"),
                                            encoding="utf-8")
    f = survey_dir / "s.yaml"
    f.write_text(SURVEY, encoding="utf-8")
    assert rendered(f) == [
        f"{f}:4: error [Q-SUR-009] module 'm' version 1.0.0 is defined by several files ({survey_dir}/m.yaml, "
        f"{survey_dir}/m_copy.yaml); keep one, or give the changed one a new version"]


# -------------------------------------------------------------------- files

def test_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "nope.yaml"
    assert rendered(f) == [f"{f}: error [Q-FILE-001] file not found; check the path {str(f)!r}"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_bytes("id: m\ntitle: {fr: Santé}\n".encode("latin-1"))
    assert rendered(f) == [f"{f}: error [Q-FILE-002] file is not UTF-8 text; save it as UTF-8"]


def test_folder_without_questionnaires(tmp_path: Path) -> None:
    assert rendered(tmp_path) == [
        f"{tmp_path}: warning [Q-FILE-003] folder holds no questionnaire (*.yaml); give the folder of the "
        "module and survey files"]


def test_a_file_too_large_is_refused_unparsed(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("id: m\n" + "# padding\n" * 220_000, encoding="utf-8")
    assert rendered(f) == [f"{f}: error [Q-FILE-004] the file has 2,097,153 characters; a questionnaire file has "
                           "at most 2,097,152: split it into modules"]


def test_a_folder_named_like_a_module_is_unreadable(tmp_path: Path) -> None:
    from surveycore.errors import ProblemList
    from surveycore.questionnaire.source import _read_yaml
    problems = ProblemList()
    (tmp_path / "m.yaml").mkdir()
    assert _read_yaml(tmp_path / "m.yaml", problems) is None
    assert [p.render() for p in problems.items] == [
        f"<input>: error [Q-FILE-005] {str(tmp_path / 'm.yaml')!r} is a folder, not a questionnaire file"]


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("", encoding="utf-8")
    assert rendered(f) == [f"{f}: error [Q-MOD-001] the file is empty; a module needs id, version, title, items"]


# ------------------------------------------------------------ documentation

def _codes_in_source() -> set[str]:
    codes: set[str] = set()
    sources = [*sorted((REPO / "surveycore" / "questionnaire").glob("*.py")), REPO / "surveycore" / "logic.py",
               REPO / "kiosk" / "check.py", *sorted((REPO / "kiosk" / "xlsform").glob("*.py"))]
    for path in sources:
        codes |= set(re.findall(r'"((?:Q|X)-[A-Z]+-\d{3})"', path.read_text(encoding="utf-8")))
    return codes


def test_every_code_is_documented() -> None:
    doc = (REPO / "docs" / "questionnaire-format.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`((?:Q|X)-[A-Z]+-\d{3})`", doc))
    assert _codes_in_source() - documented == set()
    assert documented - _codes_in_source() == set(), "documented codes that nothing raises"


def test_every_module_and_survey_code_has_a_rule_test() -> None:
    tested = {p.id.split("-")[0] + "-" + p.id.split("-")[1] + "-" + p.id.split("-")[2]
              for p in MODULE_RULES + SURVEY_RULES}
    here = Path(__file__).read_text(encoding="utf-8")
    q_codes = {c for c in _codes_in_source() if c.startswith("Q-")}
    # [Q-VER-001] needs a kiosk's outbox: tests/e2e/test_definitions.py tests it.
    # Q-EXP-002 is an internal guard of the evaluator (an operator the parser
    # never produces); it cannot be written in a file.
    untested = {c for c in q_codes - tested - {"Q-EXP-002"} if f"[{c}]" not in here}
    assert untested == set()
