"""Fuzzing the envelope and bundle parsers: whatever the bytes, only coded
EnvelopeErrors come out, never another exception."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveycore.bundle import BUNDLE_MAGIC, read_bundle
from surveycore.envelope import HEADER_LEN, INNER_MAGIC, MAGIC, parse_header
from surveycore.errors import EnvelopeError
from analysis.envelopes import open_envelope, parse_inner

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

header_like = st.builds(lambda v, s, kid, rest: MAGIC + bytes([v, s]) + kid + rest,
                        st.integers(0, 3), st.integers(0, 3), st.binary(min_size=8, max_size=8),
                        st.binary(max_size=2000))


@FUZZ
@given(st.one_of(st.binary(max_size=3000), header_like))
def test_open_envelope_only_raises_coded_errors(team, data: bytes) -> None:
    try:
        open_envelope(data, team.keys)
    except EnvelopeError as exc:
        assert exc.code.startswith("ENV-")
        assert exc.message


@FUZZ
@given(st.binary(max_size=64))
def test_parse_header_only_raises_coded_errors(data: bytes) -> None:
    try:
        header = parse_header(data)
    except EnvelopeError as exc:
        assert exc.code.startswith("ENV-")
    else:
        assert header.key_id == data[6:HEADER_LEN]


inner_like = st.builds(lambda n, body, tail: INNER_MAGIC + struct.pack(">I", n) + body + tail,
                       st.integers(0, 5000), st.binary(max_size=400), st.binary(max_size=200))


@FUZZ
@given(st.one_of(st.binary(max_size=600), inner_like), st.binary(min_size=14, max_size=14))
@pytest.mark.slow
def test_parse_inner_only_raises_coded_errors(inner: bytes, header: bytes) -> None:
    try:
        parse_inner(inner, header)
    except EnvelopeError as exc:
        assert exc.code.startswith("ENV-")


def _checksummed(payload: bytes) -> bytes:
    # A correct checksum over a malformed body reaches the structure checks.
    return payload + hashlib.sha256(payload).digest()


bundle_like = st.builds(lambda v, n, rest, ok: (_checksummed if ok else bytes)(
                            BUNDLE_MAGIC + struct.pack(">BI", v, n) + rest),
                        st.integers(0, 2), st.integers(0, 8), st.binary(max_size=500), st.booleans())


@FUZZ
@given(st.one_of(st.binary(max_size=600), bundle_like))
def test_read_bundle_only_raises_coded_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.hkb"
    path.write_bytes(data)
    try:
        read_bundle(path)
    except EnvelopeError as exc:
        assert exc.code.startswith("BND-")
