"""A survey whose files change, or vanish, between loading and recording its
definitions is refused (Q-VER-002): the kiosk never records a text it did
not run."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from surveycore.definitions import parse_block, record_of
from surveycore.errors import EnvelopeError, KioskError
from surveycore.questionnaire import load_survey
from kiosk.definitions import sign

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def survey_dir(tmp_path: Path) -> Path:
    for name in ("demo_survey.yaml", "mehm.yaml"):
        shutil.copy(ROOT / "questionnaires" / name, tmp_path / name)
    return tmp_path


def test_a_module_edited_after_loading_is_refused(survey_dir: Path) -> None:
    survey = load_survey(survey_dir / "demo_survey.yaml")
    module = survey_dir / "mehm.yaml"
    text = module.read_text(encoding="utf-8")
    assert text.count("fr: Votre santé en général\n") == 1
    module.write_text(text.replace("fr: Votre santé en général\n", "fr: Votre santé\n"), encoding="utf-8")
    with pytest.raises(KioskError) as info:
        record_of(survey)
    # The re-read files are checked against their own manifest first, which
    # already refuses them; the later hash comparison (Q-VER-002) is a second guard.
    assert info.value.user_text() == ("[BND-012] the definitions of survey 'demo' version 1.0.0 do not give the "
                                      "content hashes the bundle names; it was changed after the kiosk ran it "
                                      "(see docs/errors.md#bnd-012)")


def test_a_module_removed_after_loading_is_refused(survey_dir: Path) -> None:
    survey = load_survey(survey_dir / "demo_survey.yaml")
    (survey_dir / "mehm.yaml").unlink()
    with pytest.raises(KioskError) as info:
        record_of(survey)
    assert info.value.user_text() == (
        f"[Q-VER-002] cannot read the questionnaire file {str(survey_dir / 'mehm.yaml')!r} again (No such file or "
        "directory); check the survey folder (see docs/errors.md#q-ver-002)")


@pytest.mark.parametrize("block, why", [
    (b"\x00\x00\x00\x05short", "are truncated"),
    (struct.pack(">I", 50) + b"{}" + bytes(96), "are malformed (length mismatch)"),
])
def test_a_damaged_definitions_block_is_bnd_010(block: bytes, why: str) -> None:
    with pytest.raises(EnvelopeError) as err:
        parse_block(block, "b.hkb")
    assert err.value.code == "BND-010"
    assert err.value.message == (f"bundle 'b.hkb': its questionnaire definitions {why}; export it again from the "
                                 "kiosk: nothing was removed there")


@pytest.mark.parametrize("doc", [b"not json", b"[]", json.dumps({"kind": "something else", "version": 1}).encode(),
                                 json.dumps({"kind": "health-kiosk-definitions", "version": 1, "files": {},
                                             "surveys": [{"id": "s"}]}).encode()])
def test_signed_definitions_that_are_not_a_definitions_document_are_bnd_010(doc: bytes) -> None:
    # Signed by a real device key, so the signature holds: the document
    # itself is what is wrong.
    block = sign(doc, ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(EnvelopeError) as err:
        parse_block(block, "b.hkb")
    assert err.value.user_text() == ("[BND-010] bundle 'b.hkb': its questionnaire definitions are malformed; export "
                                     "it again from the kiosk: nothing was removed there (see docs/errors.md#bnd-010)")
