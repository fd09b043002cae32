"""Recordings of questions and answers, for patients who read little.

A health mediator records, in the staff area, a question or an answer read
aloud in one language, listens to it, and saves it. The recording becomes an
asset of the questionnaire module, like a picture: a WAV file next to the
module (``audio/<module>/<lang>/<item>.wav``) and its path in the module's
``audio`` map for that language, which the question screen plays. It is the
mediator's voice reading a public text, never anything of a patient, and it
is stored apart from the responses.

The module file is rewritten in place (layout and comments kept) and checked
like any module before anything is written; nothing is half-saved.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from surveycore.errors import ConfigError
from surveycore.questionnaire import load_module_text

# A spoken question lasts seconds; a minute of 48 kHz 16-bit mono WAV is
# about 5.5 MiB. Anything larger is a mistake (a recorder left running).
MAX_BYTES = 8 * 2**20
_SAFE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _is_wav(data: bytes) -> bool:
    return len(data) > 44 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def _find_item(items: Any, item_id: str) -> Any:
    """The item mapping with this id in a module tree, groups included."""
    for raw in items if isinstance(items, list) else []:
        if not isinstance(raw, dict):
            continue
        if str(raw.get("id")) == item_id:
            return raw
        found = _find_item(raw.get("items"), item_id)
        if found is not None:
            return found
    return None


def _target(data: Any, item_id: str, code: str | None) -> tuple[Any, str]:
    """The YAML mapping that takes the ``audio`` key (the item, or the
    choice, in a named list or inline) and the file stem of its recording."""
    item = _find_item(data.get("items"), item_id)
    if item is None:
        raise ConfigError(f"no item {item_id!r} in the module; choose a question of the module", code="REC-002")
    if code is None:
        return item, item_id
    choices = item.get("choices")
    if isinstance(choices, str):
        lists = data.get("choices") if isinstance(data.get("choices"), dict) else {}
        entries, stem = lists.get(choices), choices
    else:
        entries, stem = choices, item_id
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and str(entry.get("code")) == code:
            return entry, f"{stem}--{code}"
    raise ConfigError(f"item {item_id!r} has no answer {code!r}; choose one of its answers", code="REC-002")


def recording_path(module_dir: Path, module_id: str, lang: str, stem: str) -> str:
    """Where a recording is stored, relative to the module file."""
    return f"audio/{module_id}/{lang}/{stem}.wav"


def save_recording(module_path: str | Path, lang: str, item_id: str, code: str | None, wav: bytes) -> Path:
    """Save ``wav`` as the recording of an item's question (``code`` None)
    or of one of its answers in ``lang``; returns the audio file's path.

    Raises :class:`ConfigError` (``REC-001`` not a WAV recording or too
    large, ``REC-002`` no such item or answer, ``REC-003`` the language is
    not one of the module's, ``REC-004`` the module could not be written)
    or the module's own :class:`~surveycore.errors.ValidationError`; in every
    case neither the module nor any audio file is changed.
    """
    from kiosk.module_texts import dump, yaml_for  # the layout-keeping YAML writer
    path = Path(module_path)
    if not _is_wav(wav):
        raise ConfigError("the recording is not a WAV sound; record it again", code="REC-001")
    if len(wav) > MAX_BYTES:
        raise ConfigError(f"the recording is larger than {MAX_BYTES // 2**20} MiB; record a shorter one",
                          code="REC-001")
    text = path.read_text(encoding="utf-8")
    y, _exact = yaml_for(text)
    data = y.load(text)
    module_id = str(data.get("id"))
    languages = data.get("languages") if isinstance(data.get("languages"), dict) else {}
    if lang not in languages:
        raise ConfigError(f"the module {module_id!r} is not written in {lang!r}; record a language it has",
                          code="REC-003")
    for part in (module_id, lang, item_id, code or "x"):
        if not _SAFE_RE.match(part):
            raise ConfigError(f"{part!r} cannot name a recording file", code="REC-002")
    node, stem = _target(data, item_id, code)
    rel = recording_path(path.parent, module_id, lang, stem)
    audio = node.get("audio")
    if not isinstance(audio, dict):
        audio = CommentedMap()
        audio.fa.set_flow_style()
        node["audio"] = audio
    audio[lang] = rel
    new_text = dump(y, data)
    target = path.parent / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_audio = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(wav)
            fh.flush()
            os.fsync(fh.fileno())
        # The module must still validate with the new path (the file is in
        # place under its temporary name; its final name is checked below).
        load_module_text(new_text, str(path))
        fd2, tmp_yaml = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd2, "w", encoding="utf-8", newline="") as fh:
                fh.write(new_text)
                fh.flush()
                os.fsync(fh.fileno())
            previous = target.read_bytes() if target.exists() else None
            os.replace(tmp_audio, target)
            try:
                os.replace(tmp_yaml, path)
            except OSError:
                # Put the previous recording back: the module still names it.
                if previous is None:
                    target.unlink(missing_ok=True)
                else:
                    target.write_bytes(previous)
                raise
        finally:
            Path(tmp_yaml).unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write the recording next to {path.name} ({exc.__class__.__name__}); "
                          "check that the questionnaire folder is writable", code="REC-004") from None
    finally:
        Path(tmp_audio).unlink(missing_ok=True)
    return target
