"""Write the test vectors of docs/envelope.md into this folder.

    python tests/surveycore/vectors/make_vectors.py               # everything
    python tests/surveycore/vectors/make_vectors.py --bundle-v2   # only bundle-v2.hkb, from the envelopes kept

Keys are made once and kept (delete the key files to make new ones). HPKE
encryption is randomised, so every run writes new envelope bytes for the
same bodies: the vectors are for *opening*, and ``vectors.json`` lists, for
each envelope file, the exact body it must open to or the error code it
must be refused with. ``tests/surveycore/test_vectors.py`` checks them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402

from surveycore.bundle import write_bundle  # noqa: E402
from surveycore.envelope import INFO_PREFIX, Header, bucket_size, build_inner, canonical_json, signed_message
from surveycore.keys import SUITE_HYBRID, SUITE_X25519, device_id, device_raw, hpke_suite, load_public_key
from surveycore.questionnaire import load_survey  # noqa: E402
from surveycore.receipt import receipt_signed_message
from surveycore.response import max_body_size  # noqa: E402
from analysis.keys import generate, keygen, load_private_key, write_public_key  # noqa: E402
from analysis.receipts import signed_receipt  # noqa: E402
from kiosk.keys import create_device_key, load_device_key
from kiosk.sealing import seal

PASSPHRASE = "test vectors passphrase"
SCRYPT_N = 2 ** 10  # the lowest cost a key file may carry: vectors only


def _bodies(survey) -> dict[str, dict]:
    base = {"v": 1, "survey": {"id": survey.id, "version": survey.version, "hash": survey.hash},
            "modules": [{"id": m.id, "version": m.version, "hash": m.hash} for m in survey.modules],
            "centre": "DEMO", "period": "2026-W47", "test": False, "skipped": []}
    return {
        "complete": {**base, "id": "0123456789abcdef0123456789abcdef", "lang": "fr", "status": "complete",
                     "answers": {"mehm.general_health": "2", "mehm.chronic": "1", "mehm.limitation": None}},
        "partial": {**base, "id": "11111111111111111111111111111111", "lang": "en", "status": "partial",
                    "answers": {"mehm.general_health": "4"}},
        "declined": {**base, "id": "22222222222222222222222222222222", "lang": "fr", "status": "declined",
                     "answers": {}},
        "x25519": {**base, "id": "33333333333333333333333333333333", "lang": "en", "status": "complete",
                   "period": "2026-11", "answers": {"mehm.general_health": "1", "mehm.chronic": "2",
                                                     "mehm.limitation": "3"}},
        "test-mode": {**base, "id": "44444444444444444444444444444444", "lang": "fr", "status": "complete",
                      "test": True, "answers": {"mehm.general_health": "5", "mehm.chronic": "1",
                                                "mehm.limitation": "1"}},
    }


def _forge(body: dict, pub, device: ed25519.Ed25519PrivateKey, pad: int, *, version: int = 1,
           bad_signature: bool = False, altered: bool = False, padding: bytes = b"", size: int | None = None) -> bytes:
    """An envelope with one deliberate fault, built from the same pieces."""
    header = Header(version, pub.suite, pub.key_id).to_bytes()
    data = canonical_json(body)
    signature = device.sign(signed_message(header, data))
    if bad_signature:
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    if altered:
        data = data.replace(b'"lang":"fr"', b'"lang":"en"')
    inner = build_inner(data, device_raw(device.public_key()), signature, size or bucket_size(len(data), pad))
    if padding:
        inner = inner[:-len(padding)] + padding
    return header + hpke_suite(pub.suite).encrypt(inner, pub.key, info=INFO_PREFIX + header)


RECEIPT_IDS = ["0123456789abcdef0123456789abcdef", "11111111111111111111111111111111",
               "22222222222222222222222222222222", "33333333333333333333333333333333",
               "44444444444444444444444444444444"]


def receipt_vectors(device: bytes) -> dict:
    """Team public keys with their receipt keys, the signed receipt of the
    vector bundle (run 1, for the vector device, signed by both team keys;
    Ed25519 signatures are deterministic, so these files are exact) and an
    edited copy that a kiosk must refuse. Returns the manifest entries."""
    keys = {}
    out: dict = {"receipt": "receipt.json", "receipt_keys": {}}
    for name in ("team-hybrid", "team-x25519"):
        key = load_private_key(HERE / f"{name}.key", PASSPHRASE.encode())
        write_public_key(key, HERE / f"{name}.pub")
        keys[key.public.key_id] = key
        out["receipt_keys"][name] = key.public.receipt_raw.hex()
    text = signed_receipt(device, 1, RECEIPT_IDS, keys)
    (HERE / "receipt.json").write_text(text, encoding="utf-8")
    out["receipt_signed_message_hex"] = receipt_signed_message(json.loads(text)).hex()
    edited = json.loads(text)
    edited["envelopes"] = sorted(RECEIPT_IDS + ["55555555555555555555555555555555"])
    edited["count"] = 6
    (HERE / "receipt-edited.json").write_text(json.dumps(edited, indent=1) + "\n", encoding="utf-8")
    out["refused_receipts"] = {"receipt-edited.json": "CFG-025"}
    return out


def main() -> None:
    """(Re)write every vector file and vectors.json."""
    qdir = HERE / "questionnaires"
    qdir.mkdir(exist_ok=True)
    for name in ("demo_survey.yaml", "mehm.yaml"):
        if not (qdir / name).exists():
            shutil.copy(REPO / "questionnaires" / name, qdir / name)
    survey = load_survey(qdir / "demo_survey.yaml")
    pad = max_body_size(survey)
    for name, suite in (("team-hybrid", SUITE_HYBRID), ("team-x25519", SUITE_X25519)):
        if not (HERE / f"{name}.key").exists():
            keygen(HERE, PASSPHRASE.encode(), suite=suite, name=name, n=SCRYPT_N)
    if not (HERE / "device.key").exists():
        create_device_key(HERE / "device.key")
    hybrid = load_private_key(HERE / "team-hybrid.key", PASSPHRASE.encode()).public
    classic = load_public_key(HERE / "team-x25519.pub")
    device = load_device_key(HERE / "device.key")
    rogue = ed25519.Ed25519PrivateKey.generate()  # a kiosk nobody trusted
    stranger_key, _ = generate(SUITE_HYBRID)
    bodies = _bodies(survey)

    env_dir = HERE / "envelopes"
    shutil.rmtree(env_dir, ignore_errors=True)
    env_dir.mkdir()
    vectors: list[dict] = []

    def add(name: str, envelope: bytes, key: str | None, expect: dict) -> None:
        path = env_dir / f"{len(vectors) + 1:02d}-{name}.env"
        path.write_bytes(envelope)
        vectors.append({"file": path.relative_to(HERE).as_posix(), "sha256": hashlib.sha256(envelope).hexdigest(),
                        "length": len(envelope), "header_hex": envelope[:14].hex(), "key": key, **expect})

    def ok(body: dict) -> dict:
        return {"body": body, "body_sha256": hashlib.sha256(canonical_json(body)).hexdigest(),
                "device_fingerprint": device_id(device.public_key())}

    add("hybrid-complete", seal(bodies["complete"], hybrid, device, pad), "team-hybrid", ok(bodies["complete"]))
    add("hybrid-partial", seal(bodies["partial"], hybrid, device, pad), "team-hybrid", ok(bodies["partial"]))
    add("hybrid-declined", seal(bodies["declined"], hybrid, device, pad), "team-hybrid", ok(bodies["declined"]))
    add("x25519-complete", seal(bodies["x25519"], classic, device, pad), "team-x25519", ok(bodies["x25519"]))
    add("hybrid-test-mode", seal(bodies["test-mode"], hybrid, device, pad), "team-hybrid", ok(bodies["test-mode"]))
    fault = copy.deepcopy(bodies["complete"])
    add("bad-signature", _forge(fault, hybrid, device, pad, bad_signature=True), "team-hybrid",
        {"error": "ENV-013"})
    add("body-altered-after-signing", _forge(fault, hybrid, device, pad, altered=True), "team-hybrid",
        {"error": "ENV-013"})
    flipped = bytearray(seal(fault, hybrid, device, pad))
    flipped[1500] ^= 0x01
    add("flipped-ciphertext", bytes(flipped), "team-hybrid", {"error": "ENV-022"})
    add("unknown-key", seal(fault, stranger_key.public, device, pad), None, {"error": "ENV-020"})
    add("untrusted-device", seal(fault, hybrid, rogue, pad), "team-hybrid", {"error": "ENV-023"})
    add("nonzero-padding", _forge(fault, hybrid, device, pad, padding=b"\x01"), "team-hybrid", {"error": "ENV-012"})
    add("not-a-whole-bucket", _forge(fault, hybrid, device, pad, size=1000), "team-hybrid", {"error": "ENV-015"})
    add("header-version-2", _forge(fault, hybrid, device, pad, version=2), "team-hybrid", {"error": "ENV-004"})

    # The bundle: the five valid envelopes, the first one again, one forgery.
    order = [0, 1, 2, 3, 4, 0, 5]
    envelopes = [(HERE / vectors[i]["file"]).read_bytes() for i in order]
    write_bundle(HERE / "bundle.hkb", envelopes)
    assert [vectors[i]["body"]["id"] for i in range(5)] == RECEIPT_IDS
    receipts = receipt_vectors(device_raw(device.public_key()))
    manifest = {
        "about": "Test vectors for docs/envelope.md. Regenerate with tests/surveycore/vectors/make_vectors.py.",
        "passphrase": PASSPHRASE,
        "keys": {name: {"private": f"{name}.key", "public": f"{name}.pub",
                        "key_id": load_public_key(HERE / f"{name}.pub").key_id.hex(),
                        "suite": json.loads((HERE / f"{name}.pub").read_text())["suite"]}
                 for name in ("team-hybrid", "team-x25519")},
        "device": {"private": "device.key", "public": "device.pub",
                   "fingerprint": device_id(device.public_key()),
                   "public_hex": device_raw(device.public_key()).hex()},
        "trusted_devices": [device_id(device.public_key())],
        "questionnaires": "questionnaires",
        "envelopes": vectors,
        "bundle": {"file": "bundle.hkb", "sha256": hashlib.sha256((HERE / "bundle.hkb").read_bytes()).hexdigest(),
                   "envelopes": [vectors[i]["file"] for i in order],
                   "ingest": {"ingested": 5, "duplicates": [[5, "ING-020"]], "quarantined": [[6, "ENV-013"]]},
                   **receipts},
    }
    (HERE / "vectors.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} envelopes, bundle.hkb and vectors.json to {HERE}")
    write_bundle_v2()


def write_bundle_v2() -> None:
    """bundle-v2.hkb: the envelopes of bundle.hkb in a version 2 bundle that
    carries the signed definitions of the vector survey, and
    bundle-v2.json describing it. Ed25519 signatures are deterministic, so
    the definitions block is the same at every run for the same files."""
    from kiosk.definitions import block_of
    from surveycore.definitions import record_of
    manifest = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
    spec = manifest["bundle"]
    envelopes = [(HERE / f).read_bytes() for f in spec["envelopes"]]
    survey = load_survey(HERE / "questionnaires" / "demo_survey.yaml")
    record = record_of(survey)
    block = block_of([record], load_device_key(HERE / "device.key"))
    write_bundle(HERE / "bundle-v2.hkb", envelopes, block)
    (n,) = struct.unpack(">I", block[:4])
    out = {
        "about": "A version 2 bundle (docs/envelope.md §6): bundle.hkb's envelopes and the signed definitions "
                 "of questionnaires/demo_survey.yaml and mehm.yaml. Ingesting it needs no questionnaire folder.",
        "file": "bundle-v2.hkb",
        "sha256": hashlib.sha256((HERE / "bundle-v2.hkb").read_bytes()).hexdigest(),
        "definitions": {"length": len(block), "document_sha256": hashlib.sha256(block[4:4 + n]).hexdigest(),
                        "device_public_hex": block[4 + n:4 + n + 32].hex(),
                        "surveys": [record.manifest],
                        "files": {sha: f"questionnaires/{name}" for name in ("demo_survey.yaml", "mehm.yaml")
                                  for sha in [hashlib.sha256((HERE / "questionnaires" / name).read_bytes()).hexdigest()]}},
        "envelopes": spec["envelopes"],
        "ingest": spec["ingest"],
        "receipt": spec["receipt"],
    }
    (HERE / "bundle-v2.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote bundle-v2.hkb and bundle-v2.json to {HERE}")


def receipts_only() -> None:
    """Rewrite only the receipt vectors (and their manifest entries), keeping
    every envelope and the bundle as they are."""
    manifest = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
    device = bytes.fromhex(manifest["device"]["public_hex"])
    manifest["bundle"].update(receipt_vectors(device))
    (HERE / "vectors.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote the receipt vectors to {HERE}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--bundle-v2"]:
        write_bundle_v2()
    elif sys.argv[1:] == ["--receipts-only"]:
        receipts_only()
    else:
        main()
