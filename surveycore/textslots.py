"""The translatable texts of a module: every per-language text map of its
YAML tree, with the message context a catalog gives it.

The questionnaire loader uses the contexts to check per-text review records;
the translators' tools (``kiosk.translate``) export and import catalogs by
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from surveycore import types
from surveycore.questionnaire.fields import _code_of


@dataclass(frozen=True)
class TextSlot:
    """One translatable text of a module: where it lives, what it is, and
    its per-language map in the YAML tree."""

    context: str   # msgctxt: "title", "items.chronic.hint", "choices.health5.1"...
    item: str      # what a problem names: an item id, "health5:1", "title"...
    what: str      # a description for the translator
    texts: Any     # the {lang: text} mapping of the YAML tree
    required: bool  # needed for the language to be complete (else a warning)


def text_slots(data: Any) -> list[TextSlot]:
    """Every per-language text map of a module tree, in file order."""
    slots: list[TextSlot] = []
    if not isinstance(data, dict):
        return slots

    def add(context: str, item: str, what: str, texts: Any, required: bool) -> None:
        if isinstance(texts, dict):
            slots.append(TextSlot(context, item, what, texts, required))

    add("title", "title", "module title", data.get("title"), True)
    add("description", "description", "module description", data.get("description"), False)
    lists = data.get("choices")
    if isinstance(lists, dict):
        for name, entries in lists.items():
            for entry in entries if isinstance(entries, list) else []:
                code = _code_of(entry.get("code")) if isinstance(entry, dict) else None
                if code is not None:
                    add(f"choices.{name}.{code}", f"{name}:{code}", f"answer {code!r} of choice list {name!r}",
                        entry.get("label"), True)
    _item_slots(data.get("items"), add)
    scores = data.get("scores")
    for score in scores if isinstance(scores, list) else []:
        if not isinstance(score, dict) or not score.get("id"):
            continue
        sid = str(score["id"])
        add(f"scores.{sid}.label", f"score {sid}", f"name of score {sid!r} (report)", score.get("label"), False)
        bands = score.get("bands")
        for band in bands if isinstance(bands, list) else []:
            if isinstance(band, dict) and band.get("label") is not None:
                label = str(band["label"])
                add(f"scores.{sid}.bands.{label}", f"score {sid}", f"band {label!r} of score {sid!r}",
                    band.get("text"), False)
    return slots


def _item_slots(items: Any, add: Any) -> None:
    for raw in items if isinstance(items, list) else []:
        if not isinstance(raw, dict) or not raw.get("id"):
            continue
        iid = str(raw["id"])
        kind = str(raw.get("type", ""))
        qtype = types.find(kind)
        if qtype is not None and qtype.container:
            add(f"items.{iid}.text", iid, f"heading of group {iid!r}", raw.get("text"), False)
            _item_slots(raw.get("items"), add)
            continue
        what = "note" if qtype is not None and not qtype.answers else "question"
        add(f"items.{iid}.text", iid, f"{what} {iid!r} ({kind})",
            raw.get("text"), True)
        add(f"items.{iid}.hint", iid, f"hint under question {iid!r}", raw.get("hint"), False)
        add(f"items.{iid}.constraint_message", iid, f"message when an answer to {iid!r} does not fit",
            raw.get("constraint_message"), False)
        inline = raw.get("choices")
        for entry in inline if isinstance(inline, list) else []:
            code = _code_of(entry.get("code")) if isinstance(entry, dict) else None
            if code is not None:
                add(f"items.{iid}.choices.{code}", f"{iid}:{code}", f"answer {code!r} of question {iid!r}",
                    entry.get("label"), True)

