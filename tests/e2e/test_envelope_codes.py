"""Envelope codes of a decrypted content that is not a response, each with
its exact text (the checks that run after decryption, before the signature)."""

from __future__ import annotations

import struct

import pytest

from surveycore.errors import EnvelopeError
from surveycore.envelope import BUCKET, INNER_MAGIC, decode_body, split_inner

DAMAGED = ("damaged or altered on the way; nothing to do here: the kiosk keeps these responses and sends them "
           "again in its next bundle")


def test_a_decrypted_content_without_the_inner_magic() -> None:
    with pytest.raises(EnvelopeError) as info:
        split_inner(b"XXXX" + b"\0" * (BUCKET - 4))
    assert info.value.user_text() == ("[ENV-010] decrypted content is not a response (bad inner magic); "
                                      f"{DAMAGED} (see docs/errors.md#env-010)")


def test_a_body_length_beyond_the_end() -> None:
    inner = INNER_MAGIC + struct.pack(">I", BUCKET) + b"\0" * (BUCKET - 8)
    with pytest.raises(EnvelopeError) as info:
        split_inner(inner)
    assert info.value.user_text() == ("[ENV-011] decrypted content is truncated (body length beyond end); "
                                      f"{DAMAGED} (see docs/errors.md#env-011)")


@pytest.mark.parametrize("data, what", [(b"[1, 2]", "not a JSON object"), (b"\xff{", "not JSON")])
def test_a_signed_body_that_is_not_a_json_object(data: bytes, what: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        decode_body(data)
    assert info.value.user_text() == f"[ENV-014] signed body is {what}; {DAMAGED} (see docs/errors.md#env-014)"


def test_an_envelope_that_breaks_an_unforeseen_way_is_quarantined_not_fatal(team, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from analysis import envelopes
    from analysis.ingest import ingest
    from kiosk.cli import QUESTIONNAIRES
    from kiosk.flow import response_body
    from kiosk.keys import create_device_key
    from surveycore.questionnaire import load_survey
    from surveycore.bundle import write_bundle
    from tests.support.kiosks import seal_body as _sealed

    survey = load_survey(QUESTIONNAIRES / "demo_survey.yaml")
    device = create_device_key(tmp_path / "d.key")
    body = response_body(survey, "fr", "complete", {"mehm.general_health": "1"}, [], dt.date(2026, 11, 22))
    write_bundle(tmp_path / "b.hkb", [_sealed(survey, body, team, device)])

    def odd(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a fault no check foresaw")

    monkeypatch.setattr(envelopes, "validate_body", odd)
    result = ingest([tmp_path / "b.hkb"], team.keys, tmp_path / "data", [QUESTIONNAIRES])
    assert (result.ingested, result.quarantined) == (0, [
        ("b.hkb", 0, "[ING-090] could not be processed (RuntimeError); it is kept in quarantine: report it to the "
                     "developers")])
