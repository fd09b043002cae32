"""What a patient can read on an AppTest page, and English interface text
leaking into a page meant to be in another language."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from surveycore import i18n


def _english_msgids() -> list[str]:
    with i18n.template_path().open("rb") as fh:
        return [m for msg in read_po(fh) if msg.id
                for m in ([msg.id] if isinstance(msg.id, str) else list(msg.id))]


ENGLISH = _english_msgids()


def visible(at) -> list[str]:
    """Every text a patient can read on the page (styles and scripts aside)."""
    out = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "warning", "error",
                                "info", "text") for e in getattr(at, kind)]
    out += [b.label for b in at.button if b.key not in ("staff-door", "kiosk-idle")]
    out += [n.label for n in at.number_input]
    out += [p.proto.text for p in at.get("progress")]
    return out


def leaks(texts: list[str], lang: str, module_texts: list[dict[str, str]] | None = None) -> list[str]:
    """English interface or module text found on a page meant to be in
    ``lang``: a multi-word msgid anywhere in a text (placeholders match
    anything), a one-word msgid as a whole label; and the English of any of
    ``module_texts`` (per-language texts of the page's module) that differs
    from its ``lang`` text."""
    with i18n.po_path(lang).open("rb") as fh:
        # Words a catalog explicitly keeps as in English ("Total" in French).
        same = {m.id for m in read_po(fh) if isinstance(m.id, str) and m.string == m.id}
    found = []
    for msgid in ENGLISH:
        if msgid.count(" ") >= 1:
            pattern = re.compile(r"(?<!\w)" + re.sub(r"\\\{\w+\\\}", ".+?", re.escape(msgid)) + r"(?!\w)")
            if any(pattern.search(text) for text in texts):
                found.append(msgid)
        elif msgid in (text.strip("✓☑☐ ") for text in texts) and msgid not in same:
            found.append(msgid)
    for texts_by_lang in module_texts or []:
        english = texts_by_lang["en"]
        pattern = re.compile(r"(?<!\w)" + re.escape(english) + r"(?!\w)")
        if english != texts_by_lang[lang] and any(pattern.search(text) for text in texts):
            found.append(english)
    return found
