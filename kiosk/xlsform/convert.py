"""The conversion of a whole form: settings, choice lists, survey rows, the
languages kept and what is pruned, into a module mapping.
"""

from __future__ import annotations

from typing import Any, Iterable

from surveycore import logic, types
from surveycore.errors import ExpressionError
from surveycore.questionnaire import CODE_RE, VERSION_RE
from kiosk.xlsform.items import _ItemReader
from kiosk.xlsform.spellings import (PLACEHOLDER_LICENSE, PLACEHOLDER_SOURCE, _PIPE, _cell_text,
                                     _language_code, normalise_id)
from kiosk.xlsform.workbook import _Column


def _holds_items(it: dict[str, Any]) -> bool:
    """Whether an imported item is of a type that holds items (a group)."""
    qtype = types.find(str(it.get("type", "")))
    return qtype is not None and qtype.container


def _walk(items: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Every item, groups and what they hold, in order."""
    for it in items:
        yield it
        if _holds_items(it):
            yield from _walk(it["items"])


class _Converter(_ItemReader):
    """Converts a whole form into a module mapping."""

    # ---------------------------------------------------------------- main
    def convert(self) -> dict[str, Any] | None:
        sheets = self.read_sheets()
        if sheets is None:
            return None
        settings = self.settings(sheets.get("settings", []))
        if settings.get("default_language"):
            self.default_language = _language_code(settings["default_language"])
            if self.default_language is None:
                self.add("X-LANG-001", f"cannot tell the language code of default_language "
                                       f"{settings['default_language']!r}; write it as 'English (en)'",
                         "settings", 2)
        if self.default_language is None:
            self.default_language = self.cli_language
        survey_cols = self.columns(sheets, "survey")
        choice_cols = self.columns(sheets, "choices")
        if survey_cols is None or self.problems.errors:
            return None  # columns in an unknown language: every text would be misfiled
        for needed in ("type", "name"):
            if needed not in {c.key for c in survey_cols.values()}:
                self.add("X-SHEET-002", f"the survey sheet has no {needed!r} column", "survey", 1)
                return None
        langs = [c.lang for c in list(survey_cols.values()) + list((choice_cols or {}).values())
                 if c.key in ("label", "hint", "constraint_message", "image", "audio")]
        if any(lang is None for lang in langs) and self.default_language is None:
            bare = sorted({c.header for c in survey_cols.values()
                           if c.lang is None and c.key in ("label", "hint", "constraint_message")})
            self.add("X-LANG-002", f"column(s) {', '.join(repr(b) for b in bare)} say no language; name it "
                                   "in the settings sheet (default_language: 'French (fr)'), or import with "
                                   "--lang fr", "survey", 1)
            return None
        for lang in langs:
            code = lang or self.default_language
            if code and code not in self.languages:
                self.languages.append(code)
        lists, list_rows = self.choice_lists(sheets.get("choices", []), choice_cols or {})
        items, _ = self.survey_items(sheets["survey"], survey_cols, lists)
        if self.drop_unsupported:
            self.drop_unreadable(items)
            self.prune(items)
        used = {it["choices"] for it in _walk(items) if "choices" in it}
        for name in sorted(used & set(self.list_problems), key=lambda n: self.list_problems[n][0][2]):
            for code, message, crow in self.list_problems[name]:
                self.add(code, message, "choices", crow)
        for name, rows in list_rows.items():
            if name not in used:
                self.add("X-CHO-003", f"choice list {name!r} is not used by any question; left out", "choices", rows, severity="warning")
        if not items and not self.problems.errors:
            self.add("X-ROW-005", "no row of the form can be imported; nothing is written", "survey")
            return None
        self.select_languages(items, {n: lists[n] for n in used})
        if not self.languages:
            return None  # said: no language to write the module in
        module_id = normalise_id(settings.get("form_id", "")) or normalise_id(self.form.stem) or "imported"
        if settings.get("form_id") and module_id != settings["form_id"]:
            self.add("X-NAME-001", f"form_id {settings['form_id']!r} written as module id {module_id!r}",
                     "settings", 2, severity="warning")
        version = settings.get("version", "") or "1.0.0"
        if not VERSION_RE.match(version):
            self.add("X-SET-001", f"version {version!r} is not semantic (like 1.0.0); the module is written "
                                  "as version 1.0.0: raise it by hand when the wording changes", "settings", 2,
                     severity="warning")
            version = "1.0.0"
        title_text = settings.get("form_title") or self.form.stem
        if len(self.languages) > 1:
            # XLSForm has one title; say so rather than pass it off as a
            # translation.
            self.add("X-SET-003", f"the form title {title_text!r} is in one language only; it is written as the "
                                  f"title in {', '.join(self.languages)}: translate it in the module", "settings"
                     if settings.get("form_title") else None, 2 if settings.get("form_title") else None,
                     severity="warning")
        source = self.source or settings.get("source") or ""
        license_ = self.license or settings.get("license") or ""
        if not source or not license_:
            self.add("X-LIC-001", "the form says no source or licence; the module says it is unknown: "
                                  "fill in 'source' and 'license' (or import with --source and --license)",
                     severity="warning")
        data: dict[str, Any] = {
            "id": module_id,
            "version": version,
            "title": {lang: title_text for lang in self.languages},
            "source": source or PLACEHOLDER_SOURCE,
            "license": license_ or PLACEHOLDER_LICENSE,
            "languages": {lang: "validated" if lang in self.validated else "draft" for lang in self.languages},
        }
        kept = {name: lists[name] for name in lists if name in used}
        if kept:
            data["choices"] = kept
        data["items"] = items
        return data

    def choice_lists(self, rows: list[tuple[int, dict[str, Any]]],
                     cols: dict[str, _Column]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
        lists: dict[str, list[dict[str, Any]]] = {}
        first_row: dict[str, int] = {}
        seen: dict[tuple[str, str], int] = {}
        ignored: set[str] = set()
        for row, record in rows:
            list_name = ""
            code = ""
            for header, col in cols.items():
                if col.key == "list_name" or col.key == "list name":
                    list_name = _cell_text(record.get(header))
                elif col.key == "name":
                    code = _cell_text(record.get(header))
                elif col.key not in ("label", "image", "audio") and header in record and header not in ignored:
                    ignored.add(header)
                    self.add("X-COL-001", f"column {header!r} of the choices sheet is not used by the kiosk; "
                                          "its values are left out", "choices", row, severity="warning")
            if not list_name or not code:
                self.add("X-CHO-002", f"choice row needs 'list_name' and 'name'; got list {list_name!r}, "
                                      f"name {code!r}", "choices", row)
                continue
            lname = normalise_id(list_name)
            if lname != list_name and list_name not in self.list_alias:
                self.add("X-NAME-001", f"choice list {list_name!r} written as {lname!r}", "choices", row,
                         severity="warning")
            # Reported only if a question that is kept uses the list.
            if not CODE_RE.match(code):
                self.list_problems.setdefault(lname, []).append((
                    "X-CHO-004", f"choice name {code!r} in list {list_name!r} must be 1-32 letters, digits, "
                                 "'_' or '-': it is the code stored in every response", row))
                first_row.setdefault(lname, row)
                self.list_alias[list_name] = lname
                lists.setdefault(lname, [])
                continue
            if (lname, code) in seen:
                self.list_problems.setdefault(lname, []).append((
                    "X-CHO-005", f"choice name {code!r} appears twice in list {list_name!r} (first at row "
                                 f"{seen[(lname, code)]}); codes must be unique in a list", row))
                continue
            seen[(lname, code)] = row
            choice: dict[str, Any] = {"code": code,
                                      "label": self.text_map(record, cols, "label", "choices", row)}
            if any(_PIPE.search(t) for t in choice["label"].values()):
                self.list_refusals.setdefault(lname, (
                    "X-TXT-001", f"the label of choice {code!r} of list {list_name!r} (choices row {row}) holds an "
                                 "answer placeholder; the kiosk does not insert earlier answers into texts"))
            if not choice["label"]:
                self.list_refusals.setdefault(lname, (
                    "X-TXT-002", f"choice {code!r} of list {list_name!r} (choices row {row}) has no label; the "
                                 "patient would see an empty button: give it a label"))
            image = self.text_map(record, cols, "image", "choices", row)
            audio = self.text_map(record, cols, "audio", "choices", row)
            if image:
                choice["image"] = image
            if audio:
                choice["audio"] = audio
            lists.setdefault(lname, []).append(choice)
            first_row.setdefault(lname, row)
            self.list_alias[list_name] = lname
        return lists, first_row

    def select_languages(self, items: list[dict[str, Any]], lists: dict[str, list[dict[str, Any]]]) -> None:
        """Keep the languages asked for (``--languages``), or with
        ``--drop-unsupported`` the complete ones; a language left out is
        named with the items it lacks. Texts of the others are removed."""
        missing: dict[str, list[str]] = {lang: [] for lang in self.languages}
        for it in _walk(items):
            if _holds_items(it):
                continue
            for lang in self.languages:
                if lang not in it.get("text", {}):
                    missing[lang].append(it["id"])
        for name, choices in lists.items():
            for choice in choices:
                for lang in self.languages:
                    if lang not in choice["label"]:
                        missing[lang].append(f"choice {choice['code']!r} of list {name!r}")

        def lacks(lang: str) -> str:
            names = missing[lang]
            more = f" and {len(names) - 10} more" if len(names) > 10 else ""
            return f"{', '.join(names[:10])}{more}"

        keep = list(self.languages)
        if self.only_languages is not None:
            for lang in self.only_languages:
                if lang not in self.languages:
                    self.add("X-LANG-003", f"language {lang!r} (--languages) is not in the form; its languages are "
                                           f"{', '.join(self.languages) or 'none'}")
            keep = [lang for lang in self.only_languages if lang in self.languages and not missing[lang]]
            for lang in self.languages:
                if lang not in self.only_languages:
                    self.add("X-LANG-004", f"language {lang!r} is not asked for (--languages); left out",
                             severity="warning")
                elif missing[lang]:
                    self.add("X-LANG-004", f"language {lang!r} lacks the text of {lacks(lang)}; left out",
                             severity="warning")
            if not keep and not self.problems.errors:
                self.add("X-LANG-003", f"no language asked for (--languages {','.join(self.only_languages)}) "
                                       "is complete; translate the missing texts or ask for another language")
        elif self.drop_unsupported and any(not missing[lang] for lang in self.languages):
            keep = [lang for lang in self.languages if not missing[lang]]
            for lang in self.languages:
                if missing[lang]:
                    self.add("X-LANG-004", f"language {lang!r} lacks the text of {lacks(lang)}; left out",
                             severity="warning")
        if keep == self.languages:
            return
        self.languages = keep

        def strip(value: Any) -> None:
            if isinstance(value, dict):
                for lang in [k for k in value if k not in keep]:
                    del value[lang]
        for it in _walk(items):
            for key in ("text", "hint", "constraint_message", "image", "audio"):
                strip(it.get(key))
        for choices in lists.values():
            for choice in choices:
                for key in ("label", "image", "audio"):
                    strip(choice.get(key))

    def drop_unreadable(self, items: list[dict[str, Any]]) -> None:
        """With ``--drop-unsupported``: leave out a row whose relevance or
        constraint the kiosk cannot evaluate (a function it lacks, a path to
        no row) or that depends on a later question (ODK re-evaluates it when
        that one is answered; the kiosk asks one question a screen, in
        order). Without the option, validation names each as an error."""
        order = {it["id"]: n for n, it in enumerate(_walk(items))}

        def walk(container: list[dict[str, Any]]) -> None:
            for it in list(container):
                reason = None
                for field in ("relevant", "constraint"):
                    text = it.get(field)
                    if not text or reason:
                        continue
                    try:
                        tree = logic.parse(text)
                    except ExpressionError as exc:
                        reason = f"its {field} cannot be evaluated by the kiosk: {exc}"
                        continue
                    # A constraint checks the answer itself ('.'); a relevance
                    # decides before it is asked.
                    own = order[it["id"]] + (1 if field == "constraint" else 0)
                    later = [r for r in logic.references(tree) if order.get(r, -1) >= own]
                    if later:
                        reason = (f"its {field} refers to ${{{later[0]}}} (row {self.item_rows.get(later[0])}), "
                                  "which comes later: the kiosk asks in order and cannot ask again")
                if reason:
                    container.remove(it)
                    row = self.item_rows.get(it["id"])
                    self.dropped.setdefault(it["id"], row or 0)
                    self.add("X-ROW-006", f"{reason}; left out", "survey", row, it["id"], "warning")
                    for inner in _walk(it.get("items", [])):
                        inner_row = self.item_rows.get(inner["id"])
                        self.dropped.setdefault(inner["id"], inner_row or 0)
                        self.add("X-ROW-004", f"is in group {it['id']!r} (row {row}), which is left out; left "
                                              "out too", "survey", inner_row, inner["id"], "warning")
                elif _holds_items(it):
                    walk(it["items"])
        walk(items)

    def prune(self, items: list[dict[str, Any]]) -> None:
        """Leave out what depends on a row left out (its relevance or
        constraint refers to it), then groups left empty; say each."""
        changed = True
        while changed:
            changed = False
            kept = {it["id"] for it in _walk(items)}

            def walk(container: list[dict[str, Any]]) -> None:
                nonlocal changed
                for it in list(container):
                    text = f"{it.get('relevant', '')} {it.get('constraint', '')}"
                    gone = [r for r in dict.fromkeys(_PIPE.findall(text)) if r[2:-1] not in kept
                            and r[2:-1] in self.dropped]
                    row = self.item_rows.get(it["id"])
                    if gone:
                        container.remove(it)
                        self.dropped.setdefault(it["id"], row or 0)
                        self.add("X-ROW-004", f"depends on {gone[0]} (row {self.dropped[gone[0][2:-1]]}), which is "
                                              "left out; left out too", "survey", row, it["id"], "warning")
                        for inner in _walk(it.get("items", [])):
                            inner_row = self.item_rows.get(inner["id"])
                            self.dropped.setdefault(inner["id"], inner_row or 0)
                            self.add("X-ROW-004", f"is in group {it['id']!r} (row {row}), which is left out; left "
                                                  "out too", "survey", inner_row, inner["id"], "warning")
                        changed = True
                    elif _holds_items(it):
                        walk(it["items"])
                        if not it["items"]:
                            container.remove(it)
                            self.add("X-GRP-003", f"group {it['id']!r} (row {row}) holds no question that could "
                                                  "be imported; left out", "survey", row, it["id"], "warning")
                            changed = True
            walk(items)
