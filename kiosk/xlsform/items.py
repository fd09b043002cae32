"""Survey rows to questionnaire items: types through the question-type
registry, groups, names made into ids, expressions, integer ranges from
constraints, choice lists from files, and every row the kiosk cannot run.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from surveycore import logic, types
from surveycore.errors import ExpressionError
from surveycore.questionnaire import CODE_RE, ID_RE
from surveycore.questionnaire.fields import _did_you_mean
from kiosk.xlsform.spellings import (BLOCKING_COLUMNS, METADATA_TYPES, UNSUPPORTED_TYPES, _KNOWN_SURVEY, _NO,
                                     _PIPE, _UNSHOWN_TEXTS, _YES, _cell_text, normalise_id, parse_type)
from kiosk.xlsform.workbook import _Column, _Reader


def _bounds(expression: str, own_id: str) -> tuple[int | None, int | None, bool]:
    """Lowest and highest integer a constraint allows when it is a plain
    ``and`` of comparisons of the item with numbers; the flag says whether
    nothing else is in the constraint (so it can be dropped)."""
    try:
        tree = logic.parse(expression)
    except ExpressionError:
        return None, None, False
    parts = list(tree.args) if isinstance(tree, logic.Op) and tree.op == "and" else [tree]
    lo: int | None = None
    hi: int | None = None
    only_bounds = True
    flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
    for part in parts:
        if not (isinstance(part, logic.Op) and part.op in flip):
            only_bounds = False
            continue
        left, right = part.args
        op = part.op
        if isinstance(right, logic.Ref) and isinstance(left, logic.Lit):
            left, right, op = right, left, flip[op]
        if not (isinstance(left, logic.Ref) and left.name == own_id and isinstance(right, logic.Lit)
                and isinstance(right.value, (int, float)) and not isinstance(right.value, bool)):
            only_bounds = False
            continue
        value = float(right.value)
        if op == ">=":
            lo = max(lo, math.ceil(value)) if lo is not None else math.ceil(value)
        elif op == ">":
            lo = max(lo, math.floor(value) + 1) if lo is not None else math.floor(value) + 1
        elif op == "<=":
            hi = min(hi, math.floor(value)) if hi is not None else math.floor(value)
        elif op == "<":
            hi = min(hi, math.ceil(value) - 1) if hi is not None else math.ceil(value) - 1
        else:
            only_bounds = False
    return lo, hi, only_bounds


# An XPath path to another row, as ODK forms write them besides ${name}:
# relative (``../q``, ``../../g/q``, ``./q``) or absolute (``/data/g/q``). Not
# after a name, a bracket or ``)`` (``instance('x')/root/item`` is not a row).
_STEP = r"[A-Za-z_][\w.-]*"
_XPATH = re.compile(rf"(?<![\w)\]}}$/.])(?:(?:\.\.?/)+{_STEP}(?:/{_STEP})*|/{_STEP}(?:/{_STEP})+)")


class _ItemReader(_Reader):
    """Turns survey rows into items."""

    def survey_items(self, rows: list[tuple[int, dict[str, Any]]], cols: dict[str, _Column],
                     lists: dict[str, list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], set[str]]:
        by_key: dict[str, str] = {}
        for header, col in cols.items():
            if col.lang is None and col.attr is None:
                by_key.setdefault(col.key, header)
        # Names first: references anywhere in the form are rewritten to the
        # normalised ids, whatever the row order.
        # Collisions are settled as rows are kept (a name used again only by
        # a row left out is no collision).
        names: dict[str, str] = {}
        for row, record in rows:
            name = _cell_text(record.get(by_key.get("name", "name")))
            if not name:
                continue
            new = normalise_id(name)
            if not new or not ID_RE.match(new) or name in names:
                continue
            names[name] = new
            if new != name:
                self.add("X-NAME-001", f"name {name!r} written as {new!r} (ids use a-z, 0-9 and '_'); "
                                       "references to it are rewritten", "survey", row, new, "warning")
        self.prepass = names
        self.paths(rows, by_key)
        root: list[dict[str, Any]] = []
        stack: list[tuple[dict[str, Any] | None, int]] = []  # (group, begin row); None = dropped block
        used: set[str] = set()
        reported_cols: set[str] = set()

        def target() -> list[dict[str, Any]] | None:
            for group, _ in reversed(stack):
                if group is None:
                    return None
            return stack[-1][0]["items"] if stack else root  # type: ignore[index]

        for row, record in rows:
            self.row = row  # the context of XPath paths in this row's expressions
            raw_type = _cell_text(record.get(by_key.get("type", "type")))
            base, list_name, or_other = parse_type(raw_type)
            name = _cell_text(record.get(by_key.get("name", "name")))
            item_id = names.get(name, normalise_id(name)) or None
            disabled = _cell_text(record.get(by_key.get("disabled", "disabled"))).lower()
            if disabled in _YES:
                # pyxform leaves such rows out of the form altogether.
                self.add("X-ROW-003", f"row is disabled ({by_key.get('disabled')!r} is {disabled!r}); left out, "
                                      "as ODK does", "survey", row, item_id, "warning")
                if item_id:
                    self.dropped.setdefault(item_id, row)
                if base in ("begin_group", "begin_repeat"):
                    stack.append((None, row))
                continue
            if base in ("end_group", "end_repeat"):
                if not stack:
                    self.add("X-GRP-001", f"{base} without a matching begin", "survey", row)
                    continue
                group, begin = stack.pop()
                if group is not None and not group["items"]:
                    self.add("X-GRP-003", f"group {group['id']!r} (row {begin}) holds no question that could "
                                          "be imported; left out", "survey", begin, group["id"], "warning")
                    container = target()
                    if container is not None:
                        container[:] = [g for g in container if g is not group]
                continue
            if not base and not name and not any(c.key == "label" for h, c in cols.items() if h in record):
                # pyxform reads such a row as a comment.
                self.add("X-ROW-003", "row has no type, name or label: a comment, left out as ODK does", "survey",
                         row, severity="warning")
                continue
            if not base:
                self.add("X-ROW-001", f"row has no type (name {name!r}); give it one or delete the row",
                         "survey", row, item_id)
                continue
            inside_dropped = target() is None
            if inside_dropped:
                begin = next(b for g, b in reversed(stack) if g is None)
                self.unsupported("X-ROW-002", f"{raw_type!r} is inside the block that begins at row {begin}, "
                                              "which cannot be imported", row, item_id)
                if base in ("begin_group", "begin_repeat"):
                    stack.append((None, row))
                continue
            if base in METADATA_TYPES:
                self.add("X-TYPE-003", f"metadata {base!r} is not collected: the kiosk records no device, "
                                       "person or time of day", "survey", row, item_id, "warning")
                if item_id:
                    self.dropped.setdefault(item_id, row)
                continue
            if base == "calculate" and name and self.calculation(
                    record, by_key, row, name, item_id or "",
                    next((g["id"] for g, _ in reversed(stack) if g is not None and g.get("relevant")), None)):
                continue
            if base in ("select_one_from_file", "select_multiple_from_file") and list_name:
                base, list_name = self.list_from_file(base, list_name, row, item_id, lists)
                if not base:
                    continue
            spelled = types.from_xlsform(base)
            free_text = spelled is not None and spelled.free_text
            if free_text and self.allow_free_text:
                pass
            elif base in UNSUPPORTED_TYPES or or_other:
                reason: str | None = UNSUPPORTED_TYPES.get(
                    base, "'or_other' adds a free-text answer, which can identify a person; add an 'other' choice "
                          "instead")
                code = "X-TYPE-004" if free_text else "X-TYPE-001"
                self.unsupported(code, f"type {raw_type!r} cannot be imported: {reason}", row, item_id)
                if base == "begin_repeat":
                    stack.append((None, row))
                continue
            if spelled is None:
                self.unsupported("X-TYPE-002", f"unknown type {raw_type!r}; the kiosk imports select_one, "
                                               "select_multiple, integer, note and groups", row, item_id)
                continue
            if not name:
                self.add("X-ROW-001", f"{raw_type!r} row has no name; give it a unique name", "survey", row)
                continue
            blocked = False
            for header, col in cols.items():
                if header not in record:
                    continue
                value = _cell_text(record[header])
                reason = self.blocking(col, value, base)
                if reason:
                    blocked = True
                    self.unsupported("X-COL-002", f"column {header!r} ({value!r}): {reason}", row, item_id)
                elif header not in reported_cols and (col.attr is not None or col.key not in _KNOWN_SURVEY):
                    reported_cols.add(header)
                    why = _UNSHOWN_TEXTS.get(col.key, "")
                    if col.attr is not None:
                        why = {"instance": "instance attributes concern ODK servers",
                               "body": "display attributes are for ODK Collect; the kiosk shows one question "
                                       "a screen, large buttons"}.get(col.key, f"{col.key!r} attributes are "
                                                                                "unknown to the kiosk")
                    self.add("X-COL-001", f"column {header!r} is not used by the kiosk"
                                          f"{'; ' + why if why else ''}; its values are left out",
                             "survey", row, item_id, "warning")
            if blocked:
                if base == "begin_group":
                    stack.append((None, row))
                continue
            parent = next((g["id"] for g, _ in reversed(stack) if g is not None), None)
            item_id = self.unique_id(name, item_id or "", parent, row)
            if item_id is None:
                if base == "begin_group":
                    stack.append((None, row))
                continue
            item = self.item(base, list_name, record, cols, by_key, row, item_id, lists, used)
            if item is None:
                if base == "begin_group":
                    stack.append((None, row))  # its rows are reported, and its end_group matched
                continue
            container = target()
            assert container is not None
            container.append(item)
            self.row_ids[row] = item["id"]
            self.item_rows.setdefault(item["id"], row)
            self.kept[item["id"]] = (row, name, parent)
            self.renamed.setdefault(name, item["id"])
            if base == "begin_group":
                stack.append((item, row))
        for group, begin in stack:
            self.add("X-GRP-002", f"the block that begins at row {begin} has no end_group/end_repeat",
                     "survey", begin, group["id"] if group else None)
        return root, used

    def paths(self, rows: list[tuple[int, dict[str, Any]]], by_key: dict[str, str]) -> None:
        """Where each row sits in the form's tree (the names of the groups
        around it, then its own), so that XPath paths in expressions
        (``../danger_sign``, ``/data/group/q``) can be resolved as ODK does."""
        groups: list[str] = []
        for row, record in rows:
            base, _, _ = parse_type(_cell_text(record.get(by_key.get("type", "type"))))
            name = _cell_text(record.get(by_key.get("name", "name")))
            if base in ("end_group", "end_repeat"):
                if groups:
                    groups.pop()
                continue
            if not name:
                if base in ("begin_group", "begin_repeat"):
                    groups.append("")  # an unnamed group: nothing inside can be reached by path
                continue
            path = (*groups, name)
            self.row_paths[row] = path
            self.row_names[row] = name
            self.path_rows.setdefault(path, row)
            if base in ("begin_group", "begin_repeat"):
                groups.append(name)

    def resolve(self, path: str) -> str | None:
        """An XPath path of an expression (``../q``, ``/data/g/q``) as a
        reference ``${id}`` (or a calculation's arithmetic); ``None`` when it
        names no row of the form. Relative paths start from the row itself,
        as in ODK (``..`` is the group around it)."""
        steps = path.split("/")
        if path.startswith("/"):
            where: list[str] = []
            steps = steps[2:]  # '', then the form's root element (its name is the form's, not a row's)
        else:
            where = list(self.row_paths.get(self.row, ()))
            if not where:
                return None
        for step in steps:
            if step == "..":
                if not where:
                    return None
                where.pop()
            elif step != ".":
                where.append(step)
        row = self.path_rows.get(tuple(where))
        if row is None:
            return None
        if row in self.calc_rows:  # a calculation is its arithmetic
            return self.calc_rows[row]
        name = self.row_names[row]
        return "${" + self.row_ids.get(row, self.prepass.get(name, normalise_id(name))) + "}"

    def expression(self, text: str, own_id: str) -> str:
        """XLSForm expression to the kiosk's: ``.`` is the item itself, XPath
        paths to other rows become references, and renamed references follow
        their items."""
        def rename(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in self.calcs:  # a calculation is its arithmetic
                return self.calcs[name]
            return "${" + self.renamed.get(name, self.prepass.get(name, name)) + "}"

        def path(m: re.Match[str]) -> str:
            return self.resolve(m.group(0)) or m.group(0)  # unresolved: the validator names it

        parts = re.split(r"('[^']*'|\"[^\"]*\")", text)
        for i in range(0, len(parts), 2):  # outside quoted strings only
            parts[i] = re.sub(r"\$\{([^}]*)\}", rename, parts[i])
            parts[i] = _XPATH.sub(path, parts[i])
            parts[i] = re.sub(r"(?<![\w.}$])\.(?![\w.])", "${" + own_id + "}", parts[i])
        return "".join(parts)

    def unique_id(self, name: str, item_id: str, parent: str | None, row: int) -> str | None:
        """The id of a row about to be kept. ODK allows one name in two
        groups: the later one gets the group's id in front; two names that
        only differ in spelling (``Q1``, ``q1``) are refused (``None``)."""
        if item_id not in self.kept:
            return item_id
        first_row, first_name, first_parent = self.kept[item_id]
        if first_name != name or first_parent == parent:
            other = f"row {first_row} ({first_name!r})" if first_name != name else f"another row (row {first_row})"
            self.add("X-NAME-002", f"name {name!r} becomes {item_id!r}, which {other} already uses; rename one of "
                                   "them", "survey", row, item_id)
            # What refers to it follows from this refusal: not said again.
            self.dropped.setdefault(item_id, row)
            return None
        new = normalise_id(f"{parent or 'top'}_{item_id}")
        n = 2
        while new in self.kept or new in self.prepass.values():
            new, n = normalise_id(f"{parent or 'top'}_{item_id}_{n}"), n + 1
        self.add("X-NAME-003", f"name {name!r} is also used at row {first_row} (another group), as ODK allows; "
                               f"imported as {new!r}, and ${{{name}}} refers to row {first_row}", "survey", row,
                 new, "warning")
        return new

    def calculation(self, record: dict[str, Any], by_key: dict[str, str], row: int, name: str,
                    item_id: str, relevant_group: str | None = None) -> bool:
        """Keep a ``calculate`` row that is pure arithmetic on earlier
        answers: nothing is asked or stored, its expression is put in place
        of ``${name}`` wherever it is used. False when it cannot be (the
        row is then refused as a calculation); True, and said, when it is
        refused here for its relevance."""
        text = _cell_text(record.get(by_key.get("calculation", "calculation")))
        if not text:
            return False
        own = _cell_text(record.get(by_key.get("relevant", "relevant")))
        if own or relevant_group:
            # In ODK a calculation that is not relevant is empty; put in place
            # of its name, the arithmetic would always count.
            whose = f"its relevance {own!r}" if own else f"the relevance of its group {relevant_group!r}"
            self.unsupported("X-TYPE-001", f"calculation {text!r} holds only when {whose} does (ODK leaves it "
                                           "empty otherwise), which the kiosk cannot express; compute it without a "
                                           "condition, or declare a score in the module's 'scores'", row, item_id)
            return True
        converted = self.expression(text, item_id)
        try:
            tree = logic.parse(converted)
        except ExpressionError:
            return False
        if isinstance(tree, logic.Op) and tree.op in ("and", "or", "not", "=", "!=", "<", "<=", ">", ">=",
                                                      "selected"):
            return False  # a condition, not a number: kept out (the kiosk stores no calculated value)
        for ref in logic.references(tree):
            if ref not in self.kept:
                return False  # depends on a row left out, or on a later one
        self.calcs[name] = f"({converted})"
        self.calc_rows[self.row] = f"({converted})"
        self.add("X-CALC-001", f"calculation {text!r} is not stored; it is put in place of ${{{name}}} "
                               "wherever the form uses it", "survey", row, item_id, "warning")
        return True

    def list_from_file(self, base: str, file_name: str, row: int, item_id: str | None,
                       lists: dict[str, list[dict[str, Any]]]) -> tuple[str, str | None]:
        """``select_one_from_file towns.csv``: the choices are read from the
        CSV file next to the form (columns ``name`` and ``label``, or
        ``label::Language (xx)``). ``('', None)`` when it cannot be."""
        import csv
        kind = base.replace("_from_file", "")
        path = self.form.parent / file_name
        if Path(file_name).suffix.lower() != ".csv":
            self.unsupported("X-CHO-006", f"choices from {file_name!r}: only .csv choice files can be imported; "
                                          "put the choices in the choices sheet", row, item_id)
            return "", None
        if Path(file_name).name != file_name or not path.is_file():
            self.unsupported("X-CHO-006", f"choice file {file_name!r} is not next to the form; copy it into "
                                          f"{str(self.form.parent)!r}", row, item_id)
            return "", None
        if file_name in self.list_alias:  # read for an earlier question
            return kind, file_name
        lname = normalise_id(Path(file_name).stem) or "file"
        while lname in lists:
            lname += "_file"
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                table = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            self.unsupported("X-CHO-006", f"choice file {file_name!r} cannot be read ({exc.__class__.__name__}); "
                                          "save it as UTF-8 CSV", row, item_id)
            return "", None
        headers = list(table[0]) if table else []
        cols = {h: c for h in headers if (c := self.column(h, "choices", any("::" in x for x in headers)))}
        out = []
        for n, record in enumerate(table, start=2):
            code = _cell_text(next((record[h] for h, c in cols.items() if c.key == "name"), ""))
            if not CODE_RE.match(code):
                self.unsupported("X-CHO-006", f"choice file {file_name!r} row {n}: name {code!r} is not a valid "
                                              "code (1-32 letters, digits, '_' or '-')", row, item_id)
                return "", None
            out.append({"code": code, "label": self.text_map(record, cols, "label", "choices", n)})
        if not out:
            self.unsupported("X-CHO-006", f"choice file {file_name!r} holds no choices", row, item_id)
            return "", None
        lists[lname] = out
        self.list_alias[file_name] = lname
        return kind, file_name

    def blocking(self, col: _Column, value: str, base: str) -> str | None:
        """Why a column's value changes what the form does in a way the
        kiosk cannot honour (``None`` when it does not)."""
        if col.key in BLOCKING_COLUMNS:
            return BLOCKING_COLUMNS[col.key]
        qtype = types.from_xlsform(base)
        if col.key == "readonly" and value.lower() not in _NO and (qtype is None or qtype.answers):
            return "read-only questions are not supported (the patient could change the answer)"
        if col.key == "bind" and col.attr is not None:
            return (f"the form attribute {col.attr!r} changes how the answer is checked or stored, which the "
                    "kiosk cannot do")
        return None

    def item(self, base: str, list_word: str | None, record: dict[str, Any], cols: dict[str, _Column],
             by_key: dict[str, str], row: int, item_id: str, lists: dict[str, list[dict[str, Any]]],
             used: set[str]) -> dict[str, Any] | None:
        out: dict[str, Any] = {"id": item_id}
        appearance = _cell_text(record.get(by_key.get("appearance", "appearance"))).lower()
        # The registry says which kiosk type an XLSForm type (and appearance) is.
        qtype = types.from_xlsform(base, appearance)
        assert qtype is not None  # rows of other types were refused before
        out["type"] = qtype.name
        if appearance and (base, appearance) not in qtype.xlsform:
            self.add("X-COL-001", f"appearance {appearance!r} is not used by the kiosk (one question a "
                                  "screen, large buttons)", "survey", row, item_id, "warning")
        label = self.text_map(record, cols, "label", "survey", row)
        if not label and not qtype.container:
            # pyxform refuses it too; the kiosk would show a blank screen.
            self.unsupported("X-TXT-002", "the row has no label in any language; give it the question's text",
                             row, item_id)
            return None
        if label or not qtype.container:
            out["text"] = label
        hint = self.text_map(record, cols, "hint", "survey", row)
        if hint and qtype.container:
            self.add("X-COL-001", "a group's hint is not shown by the kiosk (it shows the group's label above each "
                                  "question); left out", "survey", row, item_id, "warning")
            hint = {}
        if hint:
            out["hint"] = hint
        message = self.text_map(record, cols, "constraint_message", "survey", row)
        for key, texts in (("label", label), ("hint", hint), ("constraint_message", message)):
            for lang, text in texts.items():
                found = _PIPE.search(text)
                if found:
                    # The kiosk does not put earlier answers into its wording:
                    # the patient would read the placeholder as written.
                    self.unsupported("X-TXT-001", f"{key} in {lang!r} holds {found.group(0)!r}: the kiosk does not "
                                                  "insert earlier answers into texts; rephrase it without the "
                                                  "placeholder", row, item_id)
                    return None
        if qtype.choices:
            if not list_word or " " in list_word:
                self.add("X-CHO-001", f"{base} needs a choice list name, like '{base} yesno'", "survey",
                         row, item_id)
                return None
            lname = self.list_alias.get(list_word, normalise_id(list_word))
            if lname not in lists:
                self.add("X-CHO-001", f"choice list {list_word!r} is not in the choices sheet"
                                      f"{_did_you_mean(lname, lists)}", "survey", row, item_id)
                return None
            if lname in self.list_refusals:
                self.unsupported(*self.list_refusals[lname], row, item_id)
                return None
            used.add(lname)
            out["choices"] = lname
        relevant = _cell_text(record.get(by_key.get("relevant", "relevant")))
        if relevant:
            out["relevant"] = self.expression(relevant, item_id)
        constraint = _cell_text(record.get(by_key.get("constraint", "constraint")))
        if constraint and not qtype.answers:
            self.add("X-COL-001", f"a {base} takes no constraint; {constraint!r} is left out", "survey", row,
                     item_id, "warning")
            constraint = ""
        if constraint:
            converted = self.expression(constraint, item_id)
            if qtype.ranged:
                lo, hi, rest_only_bounds = _bounds(converted, item_id)
                if lo is not None:
                    out["min"] = lo
                if hi is not None:
                    out["max"] = hi
                # A pure range becomes min/max; it stays a constraint too when
                # the form gives a message for it, so no wording is lost.
                if not rest_only_bounds or self.text_map(record, cols, "constraint_message", "survey", row):
                    out["constraint"] = converted
            else:
                out["constraint"] = converted
        if qtype.ranged and ("min" not in out or "max" not in out):
            self.unsupported("X-INT-001", "an integer needs a lowest and a highest value; add a constraint like "
                                          "'. >= 0 and . <= 120'", row, item_id)
            return None
        if message and "constraint" in out:
            out["constraint_message"] = message
        required = _cell_text(record.get(by_key.get("required", "required"))).lower()
        if required in _YES:
            if qtype.answers:
                out["required"] = True
        elif required not in _NO:
            self.unsupported("X-COL-002", f"required {required!r}: only yes or no is supported (a condition "
                                          "cannot be imported)", row, item_id)
            return None
        if qtype.free_text:
            out["allow_free_text"] = True
        image = self.text_map(record, cols, "image", "survey", row)
        audio = self.text_map(record, cols, "audio", "survey", row)
        if image:
            out["image"] = image
        if audio:
            out["audio"] = audio
        if qtype.container:
            out["items"] = []
        return out
