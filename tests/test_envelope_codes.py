"""Envelope codes of a decrypted content that is not a response, each with
its exact text (the checks that run after decryption, before the signature)."""

from __future__ import annotations

import struct

import pytest

from kiosk.errors import EnvelopeError
from kiosk.sealing import BUCKET, INNER_MAGIC, decode_body, split_inner

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
