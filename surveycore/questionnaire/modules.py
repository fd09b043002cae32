"""Modules: the module parser (items, groups, choices, ranges), the checks of
its expressions, and :func:`load_module`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ruamel.yaml.scalarbool import ScalarBoolean

from surveycore import logic, types
from surveycore.errors import ExpressionError, Problem, ProblemList
from surveycore.questionnaire.fields import (_a, _audio, _choices, _codes_fix, _did_you_mean, _integer,
                                             _is_bool, _media, _short, _texts, _unknown_keys)
from surveycore.questionnaire.languages import _check_languages, _check_review, _provenance
from surveycore.questionnaire.model import (Choice, IDENTIFYING_TYPES, ID_RE, Item, LANG_RE, MAX_GROUP_DEPTH,
                                            Module, Provenance, TRANSLATION_STATUSES, VERSION_RE, _AGE_ID_RE)
from surveycore.questionnaire.scores import _parse_scores
from surveycore.questionnaire.source import _line_of, _parse_yaml_text, _read_yaml, _safe_hash


_MODULE_KEYS = {"id", "version", "title", "source", "license", "languages", "choices", "items",
                "scores", "description", "review"}
_ITEM_KEYS = {"id", "type", "text", "hint", "choices", "required", "relevant", "constraint",
              "constraint_message", "min", "max", "image", "audio", "items", "allow_free_text"}


@dataclass
class _ExprSite:
    """One expression to check: where it is and which items precede it."""

    item: str
    field: str
    text: str
    line: int | None
    position: int  # items[:position] are earlier than this expression
    self_id: str | None  # the item a constraint may refer to as itself


class _ModuleParser:
    """Builds a :class:`Module` from a YAML mapping, recording every problem."""

    def __init__(self, problems: ProblemList, module_id: str, base: Path | None) -> None:
        self.problems = problems
        self.module_id = module_id
        self.base = base
        # Declared languages: a label written once as a plain string is
        # given in each of them.
        self.langs: tuple[str, ...] = ()
        self.lists: dict[str, tuple[Choice, ...]] = {}
        self.used_lists: set[str] = set()
        self.items: list[Item] = []
        self.sites: list[_ExprSite] = []
        self.group_ids: list[tuple[str, int | None]] = []
        # (what, item id, texts, line) of optional per-language texts, for the
        # completeness check of each declared language.
        self.optional_texts: list[tuple[str, str, dict[str, str], int | None]] = []
        self.all_text_langs: dict[str, int | None] = {}

    def note_langs(self, texts: Mapping[str, Any], line: int | None) -> None:
        for lang in texts:
            if lang:
                self.all_text_langs.setdefault(lang, line)

    def parse_items(self, raw_items: Any, line: int | None, depth: int = 0,
                    group_relevant: str | None = None, group_text: dict[str, str] | None = None) -> None:
        """Flatten items (groups included) into ``self.items``."""
        p = self.problems
        if depth > MAX_GROUP_DEPTH:
            p.add("Q-ITEM-009", f"groups are nested more than {MAX_GROUP_DEPTH} deep; flatten them",
                  line=line)
            return
        if not isinstance(raw_items, list) or not raw_items:
            p.add("Q-ITEM-001", f"'items' must be a non-empty list of questions; got {_short(raw_items)}",
                  line=line)
            return
        for raw in raw_items:
            iline = _line_of(raw) or line
            if not isinstance(raw, dict):
                p.add("Q-ITEM-002", f"each item must be a mapping with at least 'id', 'type', 'text'; "
                                    f"got {_short(raw)}", line=iline)
                continue
            self.parse_item(raw, iline, depth, group_relevant, group_text)

    def parse_item(self, raw: Mapping[Any, Any], iline: int | None, depth: int,
                   group_relevant: str | None, group_text: dict[str, str] | None) -> None:
        p = self.problems
        raw_id = raw.get("id", "")
        item_id = raw_id if isinstance(raw_id, str) else str(raw_id)
        if not ID_RE.match(item_id):
            p.add("Q-ITEM-003", f"item id {_short(item_id)} must start with a lowercase letter and use "
                                "only a-z, 0-9 and '_' (at most 64 characters)",
                  line=_line_of(raw, "id") or iline, item=item_id or None)
        _unknown_keys(raw, _ITEM_KEYS, "Q-ITEM-004", "", p, item=item_id or None)
        if isinstance(raw.get("choices"), str):
            # Counted as used even if the item is refused below, so that one
            # mistake is not reported twice.
            self.used_lists.add(str(raw["choices"]))
        raw_type = raw.get("type", "")
        itype = raw_type if isinstance(raw_type, str) else str(raw_type)
        tline = _line_of(raw, "type") or iline
        if itype in IDENTIFYING_TYPES:
            p.add("Q-PRIV-001", f"type {itype!r} would identify a person and is not allowed in an "
                                "anonymous survey; ask in bands or categories instead (age band, "
                                "region of birth)", line=tline, item=item_id)
            return
        qtype = types.find(itype)
        if qtype is None:
            known, spelled = types.names(), types.suggestions()
            fix = (f"; did you mean {spelled[itype]!r}?" if itype in spelled
                   else _did_you_mean(itype, known))
            fix = fix or f"; use one of {', '.join(sorted(known))}"
            p.add("Q-ITEM-005", f"unknown type {_short(itype)}{fix}", line=tline, item=item_id)
            return
        flags: dict[str, bool] = {}
        for key in ("required", "allow_free_text"):
            value = raw.get(key, False)
            if not _is_bool(value):
                p.add("Q-ITEM-007", f"{key!r} must be true or false; got {_short(value)}",
                      line=_line_of(raw, key) or iline, item=item_id)
            flags[key] = value is True or (isinstance(value, ScalarBoolean) and bool(value))
        own_relevant = self.expression(raw, "relevant", item_id, iline)
        relevant = own_relevant
        if group_relevant and own_relevant:
            relevant = f"({group_relevant}) and ({own_relevant})"
        elif group_relevant:
            relevant = group_relevant
        text = _texts(raw.get("text"), p, "text", _line_of(raw, "text") or iline, item_id,
                      required=not qtype.container)
        self.note_langs(text, _line_of(raw, "text") or iline)
        if qtype.container:
            self.group_ids.append((item_id, iline))
            for key in ("choices", "constraint", "constraint_message", "min", "max", "hint", "image", "audio",
                        "allow_free_text"):
                if key in raw:
                    p.add("Q-ITEM-008", f"a group takes no {key!r}; put it on the items inside",
                          line=_line_of(raw, key) or iline, item=item_id)
            if flags["required"]:
                p.add("Q-ITEM-008", "a group takes no 'required'; put it on the items inside",
                      line=_line_of(raw, "required") or iline, item=item_id)
            if own_relevant:
                self.sites.append(_ExprSite(item_id, "relevant", own_relevant,
                                            _line_of(raw, "relevant") or iline, len(self.items), None))
            self.parse_items(raw.get("items"), _line_of(raw, "items") or iline, depth + 1,
                             relevant, text or group_text)
            return
        if "items" in raw:
            p.add("Q-ITEM-008", f"{_a(itype)} item takes no 'items'; use type: group to group items",
                  line=_line_of(raw, "items") or iline, item=item_id)
        if own_relevant:
            self.sites.append(_ExprSite(item_id, "relevant", own_relevant,
                                        _line_of(raw, "relevant") or iline, len(self.items), None))
        constraint = self.expression(raw, "constraint", item_id, iline)
        if constraint:
            self.sites.append(_ExprSite(item_id, "constraint", constraint,
                                        _line_of(raw, "constraint") or iline, len(self.items), item_id))
        choices, list_name = self.item_choices(raw, qtype, item_id, iline)
        minimum, maximum = self.item_range(raw, qtype, item_id, iline)
        if qtype.free_text and not flags["allow_free_text"]:
            p.add("Q-PRIV-002", "free text can identify a person; mark the item "
                                "'allow_free_text: true' only if it is essential (the site must "
                                "also enable free text)", line=tline, item=item_id)
        if not qtype.answers:
            for key in ("required", "constraint"):
                if raw.get(key):
                    p.add("Q-ITEM-008", f"a note takes no answer, so {key!r} has no effect; remove it",
                          line=_line_of(raw, key) or iline, item=item_id, severity="warning")
        msg = _texts(raw.get("constraint_message"), p, "constraint_message",
                     _line_of(raw, "constraint_message") or iline, item_id, required=False)
        if constraint and not msg:
            p.add("Q-CON-001", "a constraint needs a 'constraint_message' telling the patient what to "
                               "change, in each language", line=_line_of(raw, "constraint") or iline,
                  item=item_id, severity="warning")
        if msg and not constraint:
            p.add("Q-CON-002", "'constraint_message' without a 'constraint' is never shown; add the "
                               "constraint or remove the message",
                  line=_line_of(raw, "constraint_message") or iline, item=item_id, severity="warning")
        hint = _texts(raw.get("hint"), p, "hint", _line_of(raw, "hint") or iline, item_id, required=False)
        mline = iline
        image, images = _media(raw.get("image"), p, "image", _line_of(raw, "image") or mline, item_id,
                               self.base)
        audio = _audio(raw.get("audio"), p, "audio", _line_of(raw, "audio") or mline, item_id, self.base)
        for what, texts, key in (("hint", hint, "hint"), ("constraint_message", msg, "constraint_message"),
                                 ("audio", audio, "audio"), ("image", images, "image")):
            if texts:
                self.optional_texts.append((what, item_id, texts, _line_of(raw, key) or iline))
                self.note_langs(texts, _line_of(raw, key) or iline)
        self.items.append(Item(
            id=item_id, type=itype, text=text, module=self.module_id, line=iline, hint=hint,
            choices=choices, choice_list=list_name, required=flags["required"],
            relevant=relevant, constraint=constraint, constraint_message=msg,
            minimum=minimum, maximum=maximum, image=image, audio=audio,
            group_text=group_text or {}, allow_free_text=flags["allow_free_text"], images=images,
        ))

    def expression(self, raw: Mapping[Any, Any], key: str, item_id: str, iline: int | None) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.problems.add("Q-EXP-001", f"{key}: expected an expression in quotes, like "
                                           f"\"${{q1}} = '1'\"; got {_short(value)}",
                              line=_line_of(raw, key) or iline, item=item_id)
            return None
        return str(value)

    def item_choices(self, raw: Mapping[Any, Any], qtype: types.QuestionType, item_id: str,
                     iline: int | None) -> tuple[tuple[Choice, ...], str | None]:
        p = self.problems
        itype = qtype.name
        if not qtype.choices:
            if "choices" in raw:
                p.add("Q-CHO-006", f"{_a(itype)} item takes no 'choices'; remove them or change the type",
                      line=_line_of(raw, "choices") or iline, item=item_id)
            return (), None
        ref = raw.get("choices")
        cline = _line_of(raw, "choices") or iline
        if isinstance(ref, str):
            self.used_lists.add(ref)
            if ref not in self.lists:
                fix = _did_you_mean(ref, self.lists) or (
                    f"; defined lists: {', '.join(self.lists)}" if self.lists else "; define it under 'choices'")
                p.add("Q-REF-001", f"choice list {ref!r} is not defined in 'choices'{fix}", line=cline,
                      item=item_id)
                return (), ref
            return self.lists[ref], ref
        if isinstance(ref, list):
            choices = _choices(ref, p, f"{item_id} (inline)", cline, self.base, self.langs)
            for c in choices:
                self.note_langs(c.label, cline)
            return choices, None
        p.add("Q-CHO-005", f"{_a(itype)} item needs 'choices': the name of a list or a list; "
                           f"got {_short(ref)}", line=cline, item=item_id)
        return (), None

    def item_range(self, raw: Mapping[Any, Any], qtype: types.QuestionType, item_id: str,
                   iline: int | None) -> tuple[int | None, int | None]:
        p = self.problems
        if not qtype.ranged:
            for key in ("min", "max"):
                if key in raw:
                    p.add("Q-INT-002", f"{key!r} only applies to integer items; remove it or change "
                                       "the type", line=_line_of(raw, key) or iline, item=item_id)
            return None, None
        minimum, maximum = _integer(raw.get("min")), _integer(raw.get("max"))
        if minimum is None or maximum is None or minimum > maximum:
            p.add("Q-INT-001", f"an integer item needs whole-number 'min' and 'max' with min <= max "
                               f"(a range keeps answers plausible); got min {_short(raw.get('min'))}, "
                               f"max {_short(raw.get('max'))}", line=iline, item=item_id)
        elif max(abs(minimum), abs(maximum)) > 10 ** 9:
            p.add("Q-INT-001", f"an integer range beyond one billion ({minimum}..{maximum}) is not a "
                               "survey answer; narrow it", line=iline, item=item_id)
            minimum = maximum = None
        if _AGE_ID_RE.search(item_id):
            p.add("Q-PRIV-004", "an exact age or birth year can identify a patient; ask it as a single "
                                "choice of age bands (18-24, 25-34, ...)", line=iline, item=item_id,
                  severity="warning")
        return minimum, maximum


def _resolve(name: str, module_id: str, local: Mapping[str, Item],
             external: Mapping[str, Item]) -> Item | None:
    if "." in name:
        prefix, rest = name.split(".", 1)
        if prefix == module_id:
            return local.get(rest)
        return external.get(name)
    return local.get(name)


def _check_tree_codes(tree: logic.Node, resolve: Any, site: _ExprSite, problems: ProblemList) -> None:
    """Codes used with ``selected()`` or compared with ``=``/``!=`` must be
    choices of the item they are tested against."""
    if not isinstance(tree, logic.Op):
        return
    for arg in tree.args:
        _check_tree_codes(arg, resolve, site, problems)
    where: dict[str, Any] = dict(line=site.line, item=site.item)
    if tree.op == "selected" and isinstance(tree.args[0], logic.Ref) and isinstance(tree.args[1], logic.Lit):
        ref = tree.args[0].name
        target = resolve(ref)
        code = str(tree.args[1].value)
        if target is None:
            return
        if not types.get(target.type).choices:
            problems.add("Q-EXP-005", f"{site.field}: selected(${{{ref}}}, ...) needs a choice item, but "
                                      f"${{{ref}}} is {_a(target.type)} item; compare it with =, < or > instead",
                         **where)
        elif code not in {c.code for c in target.choices}:
            problems.add("Q-REF-006", f"{site.field}: {code!r} is not a choice of ${{{ref}}}"
                                      f"{_codes_fix(code, [c.code for c in target.choices])}", **where)
    if tree.op in ("=", "!="):
        left, right = tree.args
        if isinstance(right, logic.Ref) and isinstance(left, logic.Lit):
            left, right = right, left
        if not (isinstance(left, logic.Ref) and isinstance(right, logic.Lit)):
            return
        target = resolve(left.name)
        if target is None or right.value == "":
            return
        ttype = types.get(target.type)
        if ttype.multi:
            problems.add("Q-EXP-004", f"{site.field}: ${{{left.name}}} is a multiple choice; test a code "
                                      f"with selected(${{{left.name}}}, {str(right.value)!r}) instead of "
                                      f"{tree.op}", **where)
        elif ttype.code and str(right.value) not in {c.code for c in target.choices}:
            codes = [c.code for c in target.choices]
            problems.add("Q-REF-006", f"{site.field}: {str(right.value)!r} is not a choice of "
                                      f"${{{left.name}}}{_codes_fix(str(right.value), codes)}", **where)


def _check_expressions(sites: list[_ExprSite], items: list[Item], module_id: str,
                       problems: ProblemList, external: Mapping[str, Item] | None) -> None:
    """Each reference must name an earlier item of this module (``${id}``) or an
    item of an earlier module (``${module.id}``); codes must exist."""
    local: dict[str, Item] = {}
    for it in items:
        local.setdefault(it.id, it)
    order = {it.id: i for i, it in reversed(list(enumerate(items)))}
    for site in sites:
        try:
            tree = logic.parse(site.text)
        except ExpressionError as exc:
            problems.add(exc.code, f"{site.field}: {exc.message}", line=site.line, item=site.item)
            continue
        where: dict[str, Any] = dict(line=site.line, item=site.item)
        for name in dict.fromkeys(logic.references(tree)):
            if "." in name and name.split(".", 1)[0] != module_id:
                if external is None:
                    continue  # a module checked on its own: resolved when a survey composes it
                if name not in external:
                    problems.add("Q-REF-003", f"{site.field} refers to ${{{name}}}, which is not an item of "
                                              f"an earlier module of the survey{_did_you_mean(name, external)}",
                                 **where)
                elif not external[name].is_question:
                    problems.add("Q-REF-005", f"{site.field} refers to ${{{name}}}, a note, which has no "
                                              "answer; refer to a question", **where)
                continue
            local_name = name.split(".", 1)[1] if "." in name else name
            if local_name == site.self_id:
                continue  # a constraint tests the answer being given
            if local_name == site.item and site.self_id is None and local_name in order:
                problems.add("Q-REF-005", f"{site.field} refers to ${{{name}}}, the item itself; it can "
                                          "only depend on earlier answers", **where)
                continue
            if local_name not in local:
                problems.add("Q-REF-002", f"{site.field} refers to ${{{name}}}, which is not an item of "
                                          f"this module{_did_you_mean(local_name, local)}", **where)
            elif order[local_name] >= site.position:
                problems.add("Q-REF-004", f"{site.field} refers to ${{{name}}}, which comes later; a "
                                          "question can only depend on earlier answers", **where)
            elif not local[local_name].is_question:
                problems.add("Q-REF-005", f"{site.field} refers to ${{{name}}}, a note, which has no "
                                          "answer; refer to a question", **where)

        def resolve(ref: str) -> Item | None:
            return _resolve(ref, module_id, local, external or {})
        _check_tree_codes(tree, resolve, site, problems)


def parse_module(data: Any, problems: ProblemList, path: str = "",
                 external_refs: Mapping[str, Item] | set[str] | None = None) -> Module | None:
    """Validate a module mapping already read from YAML; add every problem.

    ``external_refs`` are the items of the earlier modules of a survey, by key
    ``module.item`` (a set of keys is accepted too); when it is ``None`` the
    module is checked on its own and cross-module references are left to the
    survey check. Returns ``None`` when there is any error.
    """
    if not isinstance(data, dict):
        problems.add("Q-MOD-001", f"a module file must be a mapping with id, version, title, items; got "
                                  f"{_short(data)}")
        return None
    try:
        return _parse_module(data, problems, path, external_refs)
    except RecursionError:
        problems.add("Q-YAML-003", "the definition is nested too deeply to be a questionnaire")
        return None


def _parse_module(data: Mapping[Any, Any], problems: ProblemList, path: str,
                  external_refs: Mapping[str, Item] | set[str] | None) -> Module | None:
    _unknown_keys(data, _MODULE_KEYS, "Q-MOD-002", "", problems)
    raw_id = data.get("id", "")
    module_id = raw_id if isinstance(raw_id, str) else str(raw_id)
    if not ID_RE.match(module_id):
        problems.add("Q-MOD-003", f"module id {_short(module_id)} must start with a lowercase letter and use "
                                  "only a-z, 0-9 and '_'", line=_line_of(data, "id"))
    raw_version = data.get("version", "")
    version = raw_version if isinstance(raw_version, str) else str(raw_version)
    if not VERSION_RE.match(version):
        problems.add("Q-MOD-004", f"version {_short(version)} must be semantic, like 1.0.0 (write it in "
                                  "quotes: version: \"1.0.0\")", line=_line_of(data, "version"))
    for key in ("source", "license"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.add("Q-MOD-005", f"'{key}' is missing or not text; say where the wording comes from "
                                      "and under which licence it may be used",
                         line=_line_of(data, key) or _line_of(data))
    languages: dict[str, str] = {}
    provenance: dict[str, Provenance] = {}
    declared: set[str] = set()
    raw_langs = data.get("languages")
    if not isinstance(raw_langs, dict) or not raw_langs:
        problems.add("Q-LANG-001", "'languages' must map each language to 'validated' or 'draft', like "
                                   "{fr: validated, en: draft}", line=_line_of(data, "languages"))
    else:
        for lang, status in raw_langs.items():
            if not isinstance(lang, str) or not LANG_RE.match(lang):
                problems.add("Q-TXT-003", f"languages: {_short(lang)} is not a language code (use fr, en, ar, "
                                          "fa_AF, ti...)", line=_line_of(raw_langs, lang))
                continue
            declared.add(lang)
            if isinstance(status, dict):
                prov = _provenance(lang, status, problems)
                if prov is not None:
                    provenance[lang] = prov
                    languages[lang] = prov.status
                continue
            if not isinstance(status, str) or status not in TRANSLATION_STATUSES:
                problems.add("Q-LANG-002", f"language {lang!r} has status {_short(status)}; use 'validated' "
                                           "(reviewed wording) or 'draft' (needs native review)",
                             line=_line_of(raw_langs, lang))
                continue
            languages[lang] = status
    base = Path(path).parent if path else None
    mp = _ModuleParser(problems, module_id, base)
    mp.langs = tuple(sorted(declared))
    raw_lists = data.get("choices")
    if raw_lists is not None and not isinstance(raw_lists, dict):
        problems.add("Q-CHO-007", f"'choices' must map list names to lists of choices; got "
                                  f"{_short(raw_lists)}", line=_line_of(data, "choices"))
    elif raw_lists:
        for name, raw in raw_lists.items():
            lname = name if isinstance(name, str) else str(name)
            if not ID_RE.match(lname):
                problems.add("Q-CHO-009", f"choice list name {_short(lname)} must start with a lowercase "
                                          "letter and use only a-z, 0-9 and '_'", line=_line_of(raw_lists, name))
            mp.lists[lname] = _choices(raw, problems, lname, _line_of(raw_lists, name), base, mp.langs)
            for c in mp.lists[lname]:
                mp.note_langs(c.label, _line_of(raw_lists, name))
    mp.parse_items(data.get("items"), _line_of(data, "items"))
    items = mp.items
    seen: dict[str, int | None] = {}
    for item_id, gline in mp.group_ids:
        if item_id:
            seen.setdefault(item_id, gline)
    for it in items:
        if it.id in seen:
            problems.add("Q-ITEM-006", f"item id {it.id!r} is used twice (first at line {seen[it.id]}); "
                                       "ids must be unique in a module", line=it.line, item=it.id)
        else:
            seen[it.id] = it.line
    for name in mp.lists:
        if name not in mp.used_lists:
            problems.add("Q-CHO-008", f"choice list {name!r} is not used by any item; remove it or use it",
                         line=_line_of(raw_lists, name), severity="warning")
    external: Mapping[str, Item] | None
    if external_refs is None:
        external = None
    elif isinstance(external_refs, Mapping):
        external = external_refs
    else:
        # Only keys are known: references resolve but codes cannot be checked.
        external = {k: Item(id=k.split(".")[-1], type=types.SINGLE.name, text={}, module=k.split(".")[0])
                    for k in external_refs if isinstance(k, str)}
    _check_expressions(mp.sites, items, module_id, problems, external)
    title = _texts(data.get("title"), problems, "title", _line_of(data, "title"), None)
    description = _texts(data.get("description"), problems, "description", _line_of(data, "description"),
                         None, required=False)
    scores = _parse_scores(data.get("scores"), module_id, items, problems, _line_of(data, "scores"))
    _check_languages(mp, languages, declared, raw_langs, title, items, scores, description, problems)
    _check_review(data, languages, problems)
    # The review records say how far each translation has been checked; they
    # change no wording, so they are left out of the definition's hash.
    digest = _safe_hash({k: v for k, v in data.items() if k != "review"}, problems)
    if problems.errors:
        return None
    return Module(id=module_id, version=version, title=title, source=str(data.get("source")),
                  license=str(data.get("license")), languages=languages, items=tuple(items),
                  choice_lists=mp.lists, scores=tuple(scores), hash=digest, path=path,
                  description=description, provenance=provenance)


def load_module(path: str | Path, warnings: list[Problem] | None = None) -> Module:
    """Load and validate one module file; raise :class:`ValidationError` with
    every problem found. Warnings are appended to ``warnings`` when given."""
    p = Path(path)
    problems = ProblemList(file=str(p))
    data = _read_yaml(p, problems)
    module = parse_module(data, problems, str(p)) if data is not None else None
    if warnings is not None:
        warnings.extend(x for x in problems.items if x.severity != "error")
    problems.raise_if_errors()
    if module is None:  # only reachable for an empty file
        problems.add("Q-MOD-001", "the file is empty; a module needs id, version, title, items")
        problems.raise_if_errors()
    assert module is not None
    return module


def load_module_text(text: str, path: str = "<text>", warnings: list[Problem] | None = None) -> Module:
    """Like :func:`load_module` for YAML text already in memory (the XLSForm
    importer checks its output with it before writing anything)."""
    problems = ProblemList(file=path)
    data = _parse_yaml_text(text, problems)
    module = parse_module(data, problems, "") if data is not None else None
    if warnings is not None:
        warnings.extend(x for x in problems.items if x.severity != "error")
    if module is None and not problems.errors:
        problems.add("Q-MOD-001", "the text is empty; a module needs id, version, title, items")
    problems.raise_if_errors()
    assert module is not None
    return module
