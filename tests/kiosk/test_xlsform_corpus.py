"""Real public XLSForms (tests/kiosk/xlsforms/, sources and licences in SOURCES.md)
imported with ``--drop-unsupported``, each imported question compared with
pyxform's own reading of the form (pyxform is the oracle: the reference
converter of ODK and KoboToolbox), then the module walked in the kiosk."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from ruamel.yaml import YAML

from surveycore import logic
from kiosk.check import check_paths
from kiosk.xlsform import import_xlsform, normalise_id
from tests.support.kiosks import inline_kiosk
from tests.support.driver import click, start

from pyxform import xls2json as pyxform_xls2json  # noqa: E402  (the oracle: a test dependency)

FORMS = Path(__file__).resolve().parent / "xlsforms"

# form file, import options (the Liberia forms name no language: --lang en)
CORPUS: list[tuple[str, dict[str, Any]]] = [
    ("pyxform_UCL_Biomass_Plot_Form.xlsx", {}),
    ("pyxform_case_insensitivity.xlsx", {}),
    ("pyxform_choice_filter_test.xlsx", {"default_language": "en"}),
    ("pyxform_field-list.xlsx", {"default_language": "en"}),
    ("pyxform_flat_xlsform_test.xlsx", {"default_language": "en"}),
    ("pyxform_xlsform_spec_test.xlsx", {"default_language": "en"}),
    ("pyxform_yes_or_no_question.xlsx", {}),
    ("pyxform_widgets.xlsx", {"default_language": "en"}),
    ("pyxform_cascading_select_test_equivalent.xlsx", {"default_language": "en"}),
    ("pyxform_table-list.xlsx", {"default_language": "en"}),
    ("liberia_coverage_round1.xlsx", {"default_language": "en"}),
    ("liberia_village_round1.xlsx", {"default_language": "en"}),
    ("liberia_village_round2.xlsx", {"default_language": "en"}),
    ("cht_pregnancy_home_visit.xlsx", {}),
    ("cht_pnc_danger_sign_follow_up_mother.xlsx", {}),
    ("unhcr_formatting_examples.xlsx", {"default_language": "en"}),
    ("odk_external_itemsets.xlsx", {"default_language": "en"}),
]

# pyxform's language keys ("English (en)", "english", "EN", "default") as codes.
_NAMES = {"english": "en", "swahili": "sw", "french": "fr", "chinese": "zh"}


def lang_code(key: str, default: str | None) -> str:
    m = re.search(r"\(([A-Za-z]{2,3})\)\s*$", key)
    if m:
        return m.group(1).lower()
    if key == "default":
        assert default, "a bare label column needs a default language"
        return default
    return _NAMES.get(key.strip().lower(), key.strip().lower())


class _Words(HTMLParser):
    """The words of an HTML text, as a browser shows them (a line break or a
    heading a space)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("br", "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.handle_starttag(tag, [])

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def words(text: str) -> str:
    """What the kiosk must show of an ODK label: its words, without HTML,
    without the address of a Markdown link or picture, without a web
    address (the kiosk never links off its page)."""
    if not re.search(r"<[A-Za-z/]|\]\(|://|www\.", text, re.IGNORECASE):
        return text
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    parser = _Words()
    parser.feed(text)
    parser.close()
    text = re.sub(r"\S*(?:://|www\.)\S*", lambda m: re.sub(r"(?:[a-z]+://|www\.)[^\s()\]]*", "", m.group(0)),
                  "".join(parser.parts))
    return re.sub(r"[ \t]+", " ", text).strip()  # paragraphs stay


def texts(value: Any, default: str | None) -> dict[str, str]:
    """A pyxform label (text, or a map of language to text) as {code: text}."""
    if value is None:
        return {}
    # The Community Health Toolkit writes NO_LABEL for "no label" (its
    # converter shows nothing).
    if isinstance(value, str):
        return {default: words(value)} if value.strip() not in ("", "NO_LABEL") else {}  # type: ignore[dict-item]
    return {lang_code(k, default): words(str(v).strip()) for k, v in value.items()
            if str(v).strip() not in ("", "NO_LABEL")}


def oracle(form: Path, tmp: Path) -> dict[str, Any]:
    """pyxform's reading of the form. pyxform 4.5 refuses a name repeated in
    one choice list unless the settings allow it, as the 2018 pyxform these
    forms were written with did: the oracle reads a copy that allows it. The
    Community Health Toolkit's forms name a group of their own ``meta``, which
    its converter accepts and pyxform 4.5 refuses: the oracle reads a copy
    where that group is ``cht_meta``."""
    if form.name.startswith("cht_"):
        wb = load_workbook(form)
        ws = wb["survey"]
        name_col = [c.value for c in ws[1]].index("name") + 1
        for r in range(2, ws.max_row + 1):
            if ws.cell(row=r, column=name_col).value == "meta":
                ws.cell(row=r, column=name_col, value="cht_meta")
        copy = tmp / form.name
        wb.save(copy)
        return pyxform_xls2json.parse_file_to_json(str(copy), warnings=[])
    if not form.name.startswith("liberia_"):
        return pyxform_xls2json.parse_file_to_json(str(form), warnings=[])
    wb = load_workbook(form)
    if "settings" in wb.sheetnames:
        ws = wb["settings"]
        headers = [c.value for c in ws[1]]
        if "allow_choice_duplicates" not in headers:
            col = len(headers) + 1
            ws.cell(row=1, column=col, value="allow_choice_duplicates")
            ws.cell(row=2, column=col, value="yes")
    else:
        ws = wb.create_sheet("settings")
        ws.append(["allow_choice_duplicates"])
        ws.append(["yes"])
    copy = tmp / form.name
    wb.save(copy)
    return pyxform_xls2json.parse_file_to_json(str(copy), warnings=[])


def elements(node: dict[str, Any], out: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every survey element by name (nested groups included)."""
    for child in node.get("children", []):
        if child["name"] == "meta":  # what ODK adds (instance id, entities)
            continue
        out.setdefault(child["name"], child)
        elements(child, out)
    return out


def tree_paths(node: dict[str, Any], here: tuple[str, ...], out: dict[int, tuple[str, ...]],
               names: dict[tuple[str, ...], str]) -> None:
    """Where each element sits in pyxform's tree: ``out`` by the element's
    identity, ``names`` the element name at each path (first one wins)."""
    for child in node.get("children", []):
        path = (*here, child["name"])
        out[id(child)] = path
        names.setdefault(path, child["name"])
        tree_paths(child, path, out, names)


def xpath(text: str, here: tuple[str, ...], names: dict[tuple[str, ...], str]) -> str:
    """ODK's reading of the XPath paths in an expression, written as
    ``${name}``: relative to the element itself, or absolute from the root."""
    def one(m: re.Match[str]) -> str:
        steps = m.group(0).split("/")
        where = [] if steps[0] == "" else list(here)
        for step in steps[2:] if steps[0] == "" else steps:
            if step == "..":
                where.pop()
            elif step != ".":
                where.append(step)
        return "${" + names[tuple(where)] + "}" if tuple(where) in names else m.group(0)

    parts = re.split(r"('[^']*'|\"[^\"]*\")", text)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"(?<![\w)\]}$/.])(?:(?:\.\.?/)+[A-Za-z_][\w.-]*(?:/[A-Za-z_][\w.-]*)*"
                          r"|/[A-Za-z_][\w.-]*(?:/[A-Za-z_][\w.-]*)+)", one, parts[i])
    return "".join(parts)


def walk(items: list[dict[str, Any]], outer: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every item in order; ``_outer`` holds the relevance of the groups
    around it (the kiosk applies them to the item)."""
    out = []
    for it in items:
        out.append({**it, "_outer": outer})
        if it.get("type") == "group":
            out.extend(walk(it["items"], outer + ((it["relevant"],) if it.get("relevant") else ())))
    return out


def expected_expression(text: str, own: str, calcs: dict[str, str]) -> str:
    """An XLSForm expression as the module should hold it: ``.`` is the item,
    names are ids, a calculation is its arithmetic in brackets."""
    def ref(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in calcs:
            return "(" + expected_expression(calcs[name], own, calcs) + ")"
        return "${" + normalise_id(name) + "}"

    parts = re.split(r"('[^']*'|\"[^\"]*\")", text)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\$\{([^}]*)\}", ref, parts[i])
        parts[i] = re.sub(r"(?<![\w.}$])\.(?![\w.])", "${" + own + "}", parts[i])
    return "".join(parts)


def imported(form: str, options: dict[str, Any], tmp: Path) -> tuple[Any, dict[str, Any], Path]:
    out = tmp / "module" / "m.yaml"
    result = import_xlsform(FORMS / form, out, drop_unsupported=True, **options)
    assert result.errors == [], [p.render() for p in result.errors]
    # Media files are not shipped with the corpus: their absence is a warning.
    assert [p.render() for p in check_paths([out]) if p.severity == "error"] == []
    return result, YAML(typ="safe").load(out.read_text(encoding="utf-8")), out


@pytest.mark.parametrize("form, options", CORPUS, ids=[f for f, _ in CORPUS])
@pytest.mark.slow
def test_every_imported_question_matches_pyxform(form: str, options: dict[str, Any], tmp_path: Path) -> None:
    result, module, _ = imported(form, options, tmp_path)
    ref = oracle(FORMS / form, tmp_path)
    default = options.get("default_language")
    if ref.get("default_language") not in (None, "default"):
        default = default or lang_code(ref["default_language"], None)
    by_id: dict[str, dict[str, Any]] = {}
    for name, el in elements(ref, {}).items():
        # A calculation is never an item: ``__fever`` (the Community Health
        # Toolkit's copy of an answer) leaves the id ``fever`` to the question.
        if el["type"] != "calculate" or normalise_id(name) not in by_id:
            by_id[normalise_id(name)] = el

    def again(node: dict[str, Any], parent: str | None, seen: set[str]) -> None:
        """A name used again in another group is imported with the group's id
        in front (docs/questionnaire-format.md)."""
        for child in node.get("children", []):
            if child["name"] == "meta":
                continue
            if child["name"] in seen and child["type"] != "calculate":
                by_id.setdefault(normalise_id(f"{parent or 'top'}_{child['name']}"), child)
            seen.add(child["name"])
            again(child, normalise_id(child["name"]) if child.get("children") else parent, seen)
    again(ref, None, set())
    where: dict[int, tuple[str, ...]] = {}
    at_path: dict[tuple[str, ...], str] = {}
    tree_paths(ref, (), where, at_path)
    calcs = {name: el["bind"]["calculate"] for name, el in elements(ref, {}).items()
             if el["type"] == "calculate" and el.get("bind", {}).get("calculate")}
    langs = set(module["languages"])
    items = walk(module["items"])
    assert items, "nothing imported"
    for item in items:
        el = by_id[item["id"]]
        kind = {"select one": "single", "select all that apply": "multiple", "integer": "integer",
                "note": "note", "group": "group"}[el["type"]]
        if kind == "single" and "likert" in str(el.get("control", {}).get("appearance", "")).split():
            kind = "scale"
        assert item["type"] == kind, item["id"]
        label = el.get("label")
        if el["type"] == "group" and label is None:
            # pyxform moves a table-list group's label into a note it adds.
            label = next((c.get("label") for c in el.get("children", [])
                          if c["name"].startswith("generated_table_list_label")), None)
        want = {k: v for k, v in texts(label, default).items() if k in langs}
        assert item.get("text", {}) == want, item["id"]
        hint = {k: v for k, v in texts(el.get("hint"), default).items() if k in langs}
        assert item.get("hint", {}) == hint, item["id"]
        if kind in ("single", "multiple", "scale"):
            choices = el.get("choices") or ref["choices"][el["list_name"]]
            assert [(c["code"], c["label"]) for c in module["choices"][item["choices"]]] == [
                (str(c["name"]), {k: v for k, v in texts(c.get("label"), default).items() if k in langs})
                for c in choices], item["id"]
        bind = el.get("bind", {})
        if bind.get("relevant"):
            want = expected_expression(xpath(bind["relevant"], where[id(el)], at_path), item["id"], calcs)
            # A "flat" form (pyxform's flat annotations) copies a group's
            # relevance onto its questions; the kiosk applies the group's.
            assert item.get("relevant") == want or (
                "relevant" not in item and want in item["_outer"]), item["id"]
        else:
            assert "relevant" not in item, item["id"]
        assert item.get("required", False) == (str(bind.get("required", "")).lower() in ("yes", "true", "true()")
                                                and kind not in ("note", "group")), item["id"]
        constraint = bind.get("constraint")
        if constraint and "constraint" in item:
            assert item["constraint"] == expected_expression(xpath(constraint, where[id(el)], at_path), item["id"],
                                                             calcs), item["id"]
        elif constraint and kind == "integer":
            # A pure range became min/max: the constraint must accept exactly
            # min..max (checked by evaluating pyxform's expression).
            tree = logic.parse(expected_expression(xpath(constraint, where[id(el)], at_path), item["id"], calcs))
            lo, hi = item["min"], item["max"]
            for value, ok in ((lo - 1, False), (lo, True), (hi, True), (hi + 1, False)):
                assert logic.truthy(logic.evaluate(tree, {item["id"]: value}.get)) is ok, (item["id"], value)
        else:
            assert not constraint or kind in ("note", "group"), item["id"]
    # Every question pyxform reads is imported or named in a warning.
    kept = {it["id"] for it in items}
    said = {p.item for p in result.problems}
    for name, el in elements(ref, {}).items():
        if el["type"] in ("group", "repeat", "calculate") or name.startswith("reserved_name_for_field_list_labels") \
                or name.startswith("generated_table_list_label"):
            continue
        assert normalise_id(name) in kept or normalise_id(name) in said, name


def media(module: dict[str, Any], folder: Path) -> None:
    """The media files a module names (the corpus ships none; a site copies
    them next to the module): a tiny picture or a silent sound each."""
    import wave

    from PIL import Image

    found: list[tuple[str, str]] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("image", "audio"):
                    for path in (value.values() if isinstance(value, dict) else [value]):
                        found.append((key, path))
                else:
                    collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)
    collect(module)
    for kind, path in found:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "image":
            Image.new("RGB", (4, 4), "white").save(target, format="PNG")
        else:
            with wave.open(str(target), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(b"\0\0" * 80)


WALK = [(form, options, lang) for form, options in CORPUS for lang in
        (("en", "sw") if form == "pyxform_UCL_Biomass_Plot_Form.xlsx" else
         ("en", "fr") if form == "odk_external_itemsets.xlsx" else ("en",))]


@pytest.mark.parametrize("form, options, lang", WALK, ids=[f"{f}-{lang}" for f, _, lang in WALK])
@pytest.mark.slow
def test_imported_module_runs_to_the_end_in_the_kiosk(monkeypatch, form: str, options: dict[str, Any],
                                                      lang: str, tmp_path: Path, team) -> None:
    _, module, out = imported(form, options, tmp_path)
    survey = (f'id: corpus\nversion: "1.0.0"\nmodules:\n  - {{id: {module["id"]}, version: "{module["version"]}"}}\n'
              f"site:\n  centre: TEST\n  languages: [{', '.join(module['languages'])}]\n"
              "  allow_draft_languages: true\n")
    cfg = inline_kiosk(tmp_path / "kiosk", team, survey, {})
    shutil.copy(out, cfg.parent / "survey" / "m.yaml")
    media(module, cfg.parent / "survey")
    at = start(monkeypatch, cfg)
    click(at, f"lang-{lang}")
    click(at, "consent-yes")
    screens = 0
    while not at.title or at.title[0].value not in ("Merci !", "Thank you!", "Asante!"):
        # What the patient reads: words, never tags printed as written nor a
        # link off the kiosk.
        for shown in [h.value for h in at.header] + [c.value for c in at.caption] + [b.label for b in at.button]:
            assert not re.search(r"<[A-Za-z/]|\]\(|://|NO_LABEL", shown), shown
        keys = [b.key or "" for b in at.button]
        singles = [k for k in keys if "-c-" in k]
        multiples = [k for k in keys if "-m-" in k]
        if singles:
            click(at, singles[0])
        elif multiples:
            click(at, multiples[0])
            click(at, "-next")
        else:
            if at.number_input:
                at.number_input[0].set_value(at.number_input[0].min).run()
            click(at, "-next")
        screens += 1
        assert screens <= len(walk(module["items"])) + 1, "the module never ends"
    assert screens >= 1
