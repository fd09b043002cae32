"""Field readers shared by modules, scores and surveys: per-language texts,
media references, choice lists, and the small helpers that word a problem
(``did you mean``, short quotes of a bad value).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from ruamel.yaml.scalarbool import ScalarBoolean

from surveycore.errors import ProblemList
from surveycore.questionnaire.model import CODE_RE, Choice, LANG_RE, _REMOTE_RE
from surveycore.questionnaire.source import _line_of


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest known name, or nothing."""
    names = sorted(set(known))
    same_case = [k for k in names if k.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _codes_fix(code: str, codes: list[str]) -> str:
    """The closest code, or the list of codes when none is close."""
    return _did_you_mean(code, codes) or f"; its codes are {', '.join(codes)}"


def _a(word: str) -> str:
    """``a single item``, ``an integer item``."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _bounded_text(value: Any, limit: int) -> str:
    """``str(value)`` cut after about ``limit`` characters, built piece by
    piece: ``str`` of a list of shared lists (an alias bomb) would expand the
    whole of it before anything could be cut."""
    out: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str) and item in ("\x00[", "\x00]", "\x00{", "\x00}", "\x00, ", "\x00: "):
            piece = item[1:]
        elif isinstance(item, dict):
            parts: list[Any] = ["\x00{"]
            for n, (k, v) in enumerate(item.items()):
                parts += (["\x00, "] if n else []) + [k, "\x00: ", v]
            parts.append("\x00}")
            stack.extend(reversed(parts))
            continue
        elif isinstance(item, (list, tuple)):
            parts = ["\x00["]
            for n, v in enumerate(item):
                parts += (["\x00, "] if n else []) + [v]
            parts.append("\x00]")
            stack.extend(reversed(parts))
            continue
        else:
            piece = repr(item) if isinstance(item, str) and out else str(item)[:limit + 1]
        out.append(piece)
        size += len(piece)
    return "".join(out)


def _short(value: Any, limit: int = 40) -> str:
    """The offending value, quoted and cut, for a message."""
    if value is None:
        return "nothing"
    text = _bounded_text(value, limit)
    if len(text) > limit:
        text = text[:limit] + "..."
    return repr(text)


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, ScalarBoolean))


def _number(value: Any) -> float | None:
    """A finite number from YAML (not a boolean, not a quoted string)."""
    if _is_bool(value) or not isinstance(value, (int, float)):
        return None
    try:
        out = float(value)
    except (OverflowError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _integer(value: Any) -> int | None:
    if _is_bool(value) or not isinstance(value, int):
        return None
    return int(value)


def _code_of(value: Any) -> str | None:
    """A choice code from YAML: text or a whole number (``1`` and ``"1"`` are
    the same code); booleans, floats and null are refused because YAML would
    silently change them (``yes``/``no``, ``1.0``)."""
    if isinstance(value, str):
        return value
    if _integer(value) is not None and abs(int(value)) < 10 ** 32:
        return str(int(value))
    return None


# An XLSForm answer placeholder (``${name}``) in a text.
_PIPE_RE = re.compile(r"\$\{[^}]*\}")
# Texts are drawn as Markdown: a picture would be fetched by the patient's
# browser from its address as the screen is drawn, a link or a web address
# becomes one that leaves the kiosk.
_ADDRESS_RE = re.compile(r"!?\[[^\]]*\]\([^)]*\)|\b[a-z][a-z0-9+.-]*://\S+|\bwww\.\S+", re.IGNORECASE)


def _texts(value: Any, problems: ProblemList, where: str, line: int | None,
           item: str | None, required: bool = True) -> dict[str, str]:
    """A per-language text map ``{lang: text}``."""
    if value is None:
        if required:
            problems.add("Q-TXT-001", f"{where} is missing; give it as a map of language code to text, "
                                      "like {fr: '...', en: '...'}", line=line, item=item)
        return {}
    if not isinstance(value, dict):
        problems.add("Q-TXT-002", f"{where} must be a map of language code to text, like "
                                  f"{{fr: '...', en: '...'}}; got {_short(value)}",
                     line=line, item=item)
        return {}
    out = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or not LANG_RE.match(lang):
            problems.add("Q-TXT-003", f"{where}: {_short(lang)} is not a language code (use fr, en, ar, "
                                      "fa_AF, ti...)", line=_line_of(value, lang) or line, item=item)
            continue
        if not isinstance(text, str) or not text.strip():
            problems.add("Q-TXT-004", f"{where} in {lang!r} is empty or not text ({_short(text)}); write "
                                      "the text in quotes or remove the language",
                         line=_line_of(value, lang) or line, item=item)
            continue
        placeholder = _PIPE_RE.search(text)
        if placeholder:
            # The kiosk does not put earlier answers into wording: the patient
            # would read the placeholder itself.
            problems.add("Q-TXT-005", f"{where} in {lang!r} holds {placeholder.group(0)!r}: "
                                      "answers are not inserted into texts, so the patient would see it "
                                      "as written; rephrase the text without it",
                         line=_line_of(value, lang) or line, item=item)
        address = _ADDRESS_RE.search(text)
        if address:
            problems.add("Q-TXT-006", f"{where} in {lang!r} holds {address.group(0)!r}: texts are drawn as "
                                      "Markdown, so the patient's browser would fetch a picture from that address "
                                      "or follow a link off the kiosk; remove it (a picture goes in 'image:', a "
                                      "file next to the module; an address to note down is shown as text when "
                                      "written without 'www.' or 'https://', as 'sos-amitie.com')", line=_line_of(value, lang) or line, item=item)
        out[lang] = str(text)
    if required and not value:
        problems.add("Q-TXT-001", f"{where} is empty; give it as a map of language code to text, "
                                  "like {fr: '...', en: '...'}", line=line, item=item)
    return out


def _media(value: Any, problems: ProblemList, where: str, line: int | None, item: str | None,
           base: Path | None) -> tuple[str | None, dict[str, str]]:
    """An ``image``/``audio`` value: a relative path or a per-language map of
    paths. Returns (language-neutral path or first one, per-language map)."""
    if value is None:
        return None, {}
    if isinstance(value, str):
        raw = {"": value}
    elif isinstance(value, dict):
        raw = {}
        for lang, path in value.items():
            if not isinstance(lang, str) or not LANG_RE.match(lang):
                problems.add("Q-TXT-003", f"{where}: {_short(lang)} is not a language code (use fr, en, "
                                          "ar, fa_AF, ti...)", line=_line_of(value, lang) or line, item=item)
                continue
            if not isinstance(path, str) or not path.strip():
                problems.add("Q-MEDIA-001", f"{where} in {lang!r} must be a file path relative to the "
                                            f"module file; got {_short(path)}", line=line, item=item)
                continue
            raw[lang] = path
    else:
        problems.add("Q-MEDIA-001", f"{where} must be a file path relative to the module file, or a map "
                                    f"of language code to path; got {_short(value)}", line=line, item=item)
        return None, {}
    out: dict[str, str] = {}
    for lang, path in raw.items():
        if _REMOTE_RE.match(path) or ".." in Path(path).parts:
            problems.add("Q-MEDIA-001", f"{where} {path!r} must be a file path relative to the module "
                                        "file (no URL, no absolute path, no '..'): the kiosk never loads "
                                        "anything from outside its folder", line=line, item=item)
            continue
        resolved = base / path if base is not None else Path(path)
        if base is not None and not resolved.is_file():
            problems.add("Q-MEDIA-002", f"{where} file {path!r} not found next to the module; add the "
                                        "file or fix the path", line=line, item=item, severity="warning")
        out[lang] = str(resolved)
    neutral = out.pop("", None)
    first = neutral if neutral is not None else next(iter(out.values()), None)
    return first, out


def _audio(value: Any, problems: ProblemList, where: str, line: int | None, item: str | None,
           base: Path | None) -> dict[str, str]:
    """Recordings are spoken text, so ``audio`` is always per language."""
    if value is not None and not isinstance(value, dict):
        problems.add("Q-MEDIA-001", f"{where} is spoken text, so it must be a map of language code to "
                                    f"file path, like {{fr: audio/q1_fr.mp3}}; got {_short(value)}",
                     line=line, item=item)
        return {}
    return _media(value, problems, where, line, item, base)[1]


def _unknown_keys(raw: Mapping[Any, Any], allowed: set[str], code: str, what: str,
                  problems: ProblemList, item: str | None = None) -> None:
    for key in raw:
        if str(key) not in allowed:
            fix = _did_you_mean(str(key), allowed) or f"; allowed keys are {', '.join(sorted(allowed))}"
            problems.add(code, f"unknown {what}key {_short(key)}{fix}", line=_line_of(raw, key), item=item)


_CHOICE_KEYS = {"code", "label", "image", "audio"}


def _same_label(value: Any, problems: ProblemList, where: str, line: int | None) -> str | None:
    """A label written once as a plain string: the same text in every
    language (place names, proper nouns). None when it is a per-language map."""
    if not isinstance(value, str):
        return None
    if not value.strip():
        problems.add("Q-TXT-004", f"{where} is empty; write the text, or a map of language code to text",
                     line=line)
        return ""
    return str(value)


def _with_languages(choices: Iterable[Choice], langs: Iterable[str]) -> tuple[Choice, ...]:
    """Choices whose same-in-every-language labels cover ``langs`` (a site
    list learns the languages of its survey's modules only after parsing)."""
    langs = list(dict.fromkeys(langs))
    return tuple(replace(c, label={**{lang: c.same_text for lang in langs}, **c.label})
                 if c.same_text else c for c in choices)


def _choices(raw: Any, problems: ProblemList, list_name: str, line: int | None,
             base: Path | None = None, langs: Iterable[str] = ()) -> tuple[Choice, ...]:
    """A choice list; ``langs`` are the languages a label written once as a
    plain string is given in."""
    langs = tuple(langs)
    if not isinstance(raw, list) or not raw:
        problems.add("Q-CHO-001", f"choice list {list_name!r} must be a non-empty list of "
                                  f"{{code, label}}; got {_short(raw)}", line=line)
        return ()
    out: list[Choice] = []
    seen: set[str] = set()
    for entry in raw:
        eline = _line_of(entry) or line
        if not isinstance(entry, dict) or "code" not in entry:
            problems.add("Q-CHO-002", f"choice list {list_name!r}: each choice needs a 'code' and a "
                                      f"'label'; got {_short(entry)}", line=eline)
            continue
        _unknown_keys(entry, _CHOICE_KEYS, "Q-CHO-010", "choice ", problems)
        code = _code_of(entry["code"])
        if code is None or not CODE_RE.match(code):
            problems.add("Q-CHO-003", f"choice list {list_name!r}: code {_short(entry['code'])} must be "
                                      "1-32 letters, digits, '_' or '-' (quote it: code: \"1\")",
                         line=_line_of(entry, "code") or eline)
            code = str(entry["code"])
        if code in seen:
            problems.add("Q-CHO-004", f"choice list {list_name!r}: code {code!r} appears twice; codes "
                                      "must be unique within a list", line=eline)
        seen.add(code)
        where = f"label of choice {code!r} in {list_name!r}"
        same = _same_label(entry.get("label"), problems, where, _line_of(entry, "label") or eline)
        if same is None:
            label = _texts(entry.get("label"), problems, where, _line_of(entry, "label") or eline, None)
        else:
            # An empty one is reported once (Q-TXT-004), not again per language.
            label = {lang: same for lang in langs}
        audio = _audio(entry.get("audio"), problems, f"audio of choice {code!r}", eline, None, base)
        image, images = _media(entry.get("image"), problems, f"image of choice {code!r}", eline, None,
                               base)
        out.append(Choice(code, label, image, audio, images, same or None))
    return tuple(out)
