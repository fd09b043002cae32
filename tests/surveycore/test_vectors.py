"""The committed test vectors of docs/envelope.md open to their exact bodies
(or are refused with their exact codes), and the vector bundle ingests to
the committed receipt. Another implementation can check itself the same way."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from surveycore.bundle import read_bundle
from surveycore.envelope import BUCKET, HEADER_LEN, INFO_PREFIX, canonical_json
from surveycore.errors import EnvelopeError
from surveycore.keys import hpke_suite, load_device_public, load_public_key
from analysis.envelopes import open_envelope
from analysis.ingest import ingest
from analysis.keys import load_private_key, receipt_signing_key
from analysis.receipts import write_receipts

HERE = Path(__file__).resolve().parent / "vectors"
MANIFEST = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def keys() -> dict:
    out = {}
    for entry in MANIFEST["keys"].values():
        key = load_private_key(HERE / entry["private"], MANIFEST["passphrase"].encode())
        assert key.public.key_id.hex() == entry["key_id"]
        assert load_public_key(HERE / entry["public"]).key_id == key.public.key_id
        out[key.public.key_id] = key
    return out


@pytest.fixture(scope="module")
def trusted() -> list[bytes]:
    device = load_device_public(HERE / MANIFEST["device"]["public"])
    assert device.fingerprint == MANIFEST["device"]["fingerprint"] == MANIFEST["trusted_devices"][0]
    assert device.raw.hex() == MANIFEST["device"]["public_hex"]
    return [device.raw]


def test_the_manifest_covers_every_case() -> None:
    assert [v["file"] for v in MANIFEST["envelopes"]] == sorted(
        p.relative_to(HERE).as_posix() for p in (HERE / "envelopes").glob("*.env"))
    assert sum("body" in v for v in MANIFEST["envelopes"]) == 5
    assert {v.get("error") for v in MANIFEST["envelopes"]} == {
        None, "ENV-004", "ENV-012", "ENV-013", "ENV-015", "ENV-020", "ENV-022", "ENV-023"}


@pytest.mark.parametrize("vector", MANIFEST["envelopes"], ids=lambda v: Path(v["file"]).stem)
def test_vector_opens_to_its_exact_body_or_is_refused_with_its_code(vector: dict, keys: dict,
                                                                      trusted: list[bytes]) -> None:
    envelope = (HERE / vector["file"]).read_bytes()
    assert hashlib.sha256(envelope).hexdigest() == vector["sha256"]
    assert len(envelope) == vector["length"]
    assert envelope[:HEADER_LEN].hex() == vector["header_hex"]
    if "error" in vector:
        with pytest.raises(EnvelopeError) as exc:
            open_envelope(envelope, keys, trusted)
        assert exc.value.code == vector["error"]
        return
    body, device = open_envelope(envelope, keys, trusted)
    assert body == vector["body"]
    assert device == vector["device_fingerprint"]
    # The signed bytes are the canonical JSON of the body, as documented.
    assert hashlib.sha256(canonical_json(body)).hexdigest() == vector["body_sha256"]


@pytest.mark.parametrize("vector", [v for v in MANIFEST["envelopes"] if "body" in v],
                         ids=lambda v: Path(v["file"]).stem)
def test_inner_layout_as_documented(vector: dict, keys: dict) -> None:
    # Decrypt by hand, following docs/envelope.md step by step.
    envelope = (HERE / vector["file"]).read_bytes()
    header = envelope[:HEADER_LEN]
    assert header[:4] == b"HKSE" and header[4] == 1
    key = keys[header[6:14]]
    inner = hpke_suite(header[5]).decrypt(envelope[HEADER_LEN:], key.key, info=INFO_PREFIX + header)
    assert len(inner) % BUCKET == 0
    assert inner[:4] == b"HKIN"
    (n,) = struct.unpack(">I", inner[4:8])
    assert json.loads(inner[8:8 + n]) == vector["body"]
    assert inner[8 + n:8 + n + 32].hex() == MANIFEST["device"]["public_hex"]
    assert inner[8 + n + 96:] == bytes(len(inner) - n - 104)


def test_vector_bundle_ingests_to_the_committed_receipt(keys: dict, trusted: list[bytes], tmp_path: Path) -> None:
    spec = MANIFEST["bundle"]
    path = HERE / spec["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec["sha256"]
    assert read_bundle(path).envelopes == [(HERE / f).read_bytes() for f in spec["envelopes"]]
    result = ingest([path], keys, tmp_path / "data", [HERE / MANIFEST["questionnaires"]], trusted)
    assert result.ingested == spec["ingest"]["ingested"]
    assert [[i, r[1:8]] for _, i, r in result.duplicate_list] == spec["ingest"]["duplicates"]
    assert [[i, r[1:8]] for _, i, r in result.quarantined] == spec["ingest"]["quarantined"]
    (receipt,) = write_receipts(tmp_path / "receipts", result.run, result.receipt_devices, keys)
    assert receipt.read_text() == (HERE / spec["receipt"]).read_text()


def test_receipt_vectors_verify_with_the_published_keys(keys: dict) -> None:
    """The receipt key is HKDF-derived from each team key; its public half is
    in the .pub file; the committed receipt verifies with it and an edited
    copy is refused."""
    from surveycore.errors import ConfigError
    from surveycore.receipt import read_receipt, receipt_signed_message
    spec = MANIFEST["bundle"]
    device = bytes.fromhex(MANIFEST["device"]["public_hex"])
    text = (HERE / spec["receipt"]).read_text()
    assert receipt_signed_message(json.loads(text)).hex() == spec["receipt_signed_message_hex"]
    for name, entry in MANIFEST["keys"].items():
        pub = load_public_key(HERE / entry["public"])
        assert pub.receipt_raw.hex() == spec["receipt_keys"][name]
        assert receipt_signing_key(keys[pub.key_id].secret).public_key().public_bytes_raw() == pub.receipt_raw
        receipt = read_receipt(HERE / spec["receipt"], pub, device)
        assert (receipt.run, [i.hex() for i in receipt.ids]) == (1, json.loads(text)["envelopes"])
        for refused, code in spec["refused_receipts"].items():
            with pytest.raises(ConfigError) as info:
                read_receipt(HERE / refused, pub, device)
            assert info.value.code == code


def test_version_2_bundle_describes_itself(keys: dict, trusted: list[bytes], tmp_path: Path) -> None:
    # docs/envelope.md §6, byte by byte: header, signed definitions, envelopes, checksum.
    spec = json.loads((HERE / "bundle-v2.json").read_text(encoding="utf-8"))
    raw = (HERE / spec["file"]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == spec["sha256"]
    assert raw[:9] == b"HKBUNDLE\x02"
    (length,) = struct.unpack(">I", raw[9:13])
    assert length == spec["definitions"]["length"]
    block = raw[13:13 + length]
    (n,) = struct.unpack(">I", block[:4])
    doc, device, signature = block[4:4 + n], block[4 + n:4 + n + 32], block[4 + n + 32:]
    assert hashlib.sha256(doc).hexdigest() == spec["definitions"]["document_sha256"]
    assert device.hex() == spec["definitions"]["device_public_hex"] == MANIFEST["device"]["public_hex"]
    ed25519.Ed25519PublicKey.from_public_bytes(device).verify(signature, b"health-kiosk/definitions/v1" + doc)
    document = json.loads(doc)
    assert document["kind"] == "health-kiosk-definitions" and document["version"] == 1
    assert document["surveys"] == spec["definitions"]["surveys"]
    # Every file byte for byte, keyed by its SHA-256.
    for sha, name in spec["definitions"]["files"].items():
        assert base64.b64decode(document["files"][sha]) == (HERE / name).read_bytes()
        assert hashlib.sha256((HERE / name).read_bytes()).hexdigest() == sha
    (count,) = struct.unpack(">I", raw[13 + length:17 + length])
    assert count == len(spec["envelopes"])
    assert raw[-32:] == hashlib.sha256(raw[:-32]).digest()
    # No questionnaire folder: the bundle's own definitions are enough.
    result = ingest([HERE / spec["file"]], keys, tmp_path / "data", [], trusted)
    assert result.ingested == spec["ingest"]["ingested"]
    assert [[i, r[1:8]] for _, i, r in result.quarantined] == spec["ingest"]["quarantined"]
    (receipt,) = write_receipts(tmp_path / "receipts", result.run, result.receipt_devices, keys)
    assert receipt.read_text() == (HERE / spec["receipt"]).read_text()
