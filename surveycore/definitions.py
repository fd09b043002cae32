"""Definitions that travel with the envelopes: a bundle describes itself.

A bundle carries, byte for byte, the survey file (site settings and lists
included) and every module file its envelopes were answered with, keyed by
their SHA-256, and signed by the kiosk's device key. These are public
questionnaire texts, never patient data. The analysis side checks the
signature and that the files give exactly the content hashes the envelopes
name, so answers are always read with the definitions they were given with,
whatever questionnaire folders the team has (or lacks).

The kiosk records, in its outbox, every survey it has run (by content hash)
until the end of its life: a bundle exported after a survey change still
describes the older envelopes. The same record lets the kiosk refuse to start
on a definition changed without a new version (:func:`version_conflicts`).

Formats are in ``docs/envelope.md`` (§6.1). Here: the document, its parsing
and its verification; signing it with the device key is
``kiosk.definitions``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from surveycore.errors import EnvelopeError, KioskError, ValidationError
from surveycore.questionnaire import Survey, load_survey

KIND = "health-kiosk-definitions"
VERSION = 1
SIGNATURE_PREFIX = b"health-kiosk/definitions/v1"
# A whole survey with every reference module is about 80 KB of YAML; a kiosk
# that ran a few hundred versions stays far below this.
MAX_BLOCK = 16 << 20


@dataclass(frozen=True)
class SurveyRecord:
    """One survey as a kiosk ran it: its manifest (ids, versions, content
    hashes, file digests) and the file bytes by SHA-256."""

    manifest: dict[str, Any]
    files: dict[str, bytes]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_of(survey: Survey) -> SurveyRecord:
    """The files of a loaded survey, read again from disk and checked: they
    must give the very hashes the loaded survey has (a file edited between
    loading and reading is refused, Q-VER-002)."""
    paths = [Path(survey.path)] + [Path(m.path) for m in survey.modules]
    try:
        blobs = [p.read_bytes() for p in paths]
    except OSError as exc:
        raise KioskError(f"cannot read the questionnaire file {exc.filename!r} again ({exc.strerror}); "
                         "check the survey folder", code="Q-VER-002") from None
    record = SurveyRecord(
        {"id": survey.id, "version": survey.version, "hash": survey.hash, "file": _sha(blobs[0]),
         "modules": [{"id": m.id, "version": m.version, "hash": m.hash, "file": _sha(b)}
                     for m, b in zip(survey.modules, blobs[1:])]},
        {_sha(b): b for b in blobs})
    loaded = load_record(record.manifest, record.files)
    if loaded.hash != survey.hash:
        raise KioskError(f"the survey {survey.path!r} or one of its modules changed while the kiosk was "
                         "starting; start it again", code="Q-VER-002")
    return record


def encode(records: list[SurveyRecord]) -> bytes:
    """The canonical JSON document of several surveys (sorted, no repeats)."""
    surveys = sorted({r.manifest["hash"]: r.manifest for r in records}.values(), key=lambda m: m["hash"])
    files: dict[str, str] = {}
    for r in records:
        for sha, blob in r.files.items():
            files[sha] = base64.b64encode(blob).decode("ascii")
    doc = {"kind": KIND, "version": VERSION, "surveys": surveys, "files": dict(sorted(files.items()))}
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Definitions:
    """A verified definitions block: the signer and the surveys it holds."""

    device: bytes                                   # raw Ed25519 public key of the signer
    manifests: list[dict[str, Any]]
    files: dict[str, bytes]

    def surveys(self) -> dict[str, Survey]:
        """Every survey of the block, loaded from its own bytes, by survey
        hash; a survey whose files do not give the hash it claims is
        refused (BND-012)."""
        return {m["hash"]: load_record(m, self.files) for m in self.manifests}


def _bad(name: str, why: str, code: str) -> EnvelopeError:
    return EnvelopeError(f"bundle {name!r}: its questionnaire definitions {why}; export it again from the "
                         "kiosk: nothing was removed there", code=code)


def parse_block(block: bytes, name: str = "") -> Definitions:
    """Check a definitions block: layout, document shape, device signature
    (BND-010 malformed, BND-011 signature does not verify)."""
    if len(block) < 4 + 96:
        raise _bad(name, "are truncated", "BND-010")
    (n,) = struct.unpack(">I", block[:4])
    if 4 + n + 96 != len(block):
        raise _bad(name, "are malformed (length mismatch)", "BND-010")
    doc, device, signature = block[4:4 + n], block[4 + n:4 + n + 32], block[4 + n + 32:]
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(device).verify(signature, SIGNATURE_PREFIX + doc)
    except (InvalidSignature, ValueError):
        raise _bad(name, "are not signed by the kiosk's device key (altered on the way)", "BND-011") from None
    try:
        data = json.loads(doc.decode("utf-8"))
        if not isinstance(data, dict) or data.get("kind") != KIND or data.get("version") != VERSION:
            raise ValueError("kind or version")
        files = {str(k): base64.b64decode(v, validate=True) for k, v in data["files"].items()}
        manifests = list(data["surveys"])
        for m in manifests:
            refs = [m] + list(m["modules"])
            for r in refs:
                if not all(isinstance(r.get(k), str) for k in ("id", "version", "hash", "file")):
                    raise ValueError("manifest")
                if r["file"] not in files or _sha(files[r["file"]]) != r["file"]:
                    raise ValueError("file digest")
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise _bad(name, "are malformed", "BND-010") from None
    return Definitions(device, manifests, files)


def load_record(manifest: dict[str, Any], files: dict[str, bytes]) -> Survey:
    """Load a survey from the bytes of its files alone (no questionnaire
    folder is read), and check it gives the manifest's hashes (BND-012)."""
    with tempfile.TemporaryDirectory(prefix="hk-definitions-") as tmp:
        folder = Path(tmp)
        survey_file = folder / "survey.yaml"
        survey_file.write_bytes(files[manifest["file"]])
        for i, ref in enumerate(manifest["modules"]):
            (folder / f"module-{i}.yaml").write_bytes(files[ref["file"]])
        try:
            survey = load_survey(survey_file, [])
        except (ValidationError, KioskError) as exc:
            raise EnvelopeError(f"the definitions of survey {manifest['id']!r} version {manifest['version']} "
                                f"do not load ({exc.code}); it was changed after the kiosk ran it",
                                code="BND-012") from None
    got = {"hash": survey.hash, "modules": [(m.id, m.version, m.hash) for m in survey.modules]}
    want = {"hash": manifest["hash"], "modules": [(r["id"], r["version"], r["hash"]) for r in manifest["modules"]]}
    if got != want:
        raise EnvelopeError(f"the definitions of survey {manifest['id']!r} version {manifest['version']} do not "
                            "give the content hashes the bundle names; it was changed after the kiosk ran it",
                            code="BND-012")
    return survey


def version_conflicts(survey: Survey, recorded: list[dict[str, Any]]) -> list[str]:
    """Messages for every definition of ``survey`` whose id and version this
    kiosk already ran with other content: answers given with the two texts
    could not be told apart. Each message says which version to bump."""
    known: dict[tuple[str, str, str], str] = {}
    for rec in recorded:
        known.setdefault(("survey", rec["id"], rec["version"]), rec["hash"])
        for r in rec["modules"]:
            known.setdefault(("module", r["id"], r["version"]), r["hash"])
    out = []
    for m in survey.modules:
        old = known.get(("module", m.id, m.version))
        if old is not None and old != m.hash:
            out.append(f"module {m.id!r} version {m.version} ({m.path}) differs from the one this kiosk already "
                       f"ran (hash {old}, now {m.hash}); give it a new version (for example "
                       f"version: \"{_bump(m.version)}\") and pin that version in the survey")
    old = known.get(("survey", survey.id, survey.version))
    if old is not None and old != survey.hash:
        out.append(f"survey {survey.id!r} version {survey.version} ({survey.path}) differs from the one this kiosk "
                   f"already ran (hash {old}, now {survey.hash}): its site settings, site lists or the modules it "
                   f"pins changed; give it a new version (version: \"{_bump(survey.version)}\")")
    return out


def _bump(version: str) -> str:
    parts = version.split(".")
    try:
        parts[1] = str(int(parts[1]) + 1)
        parts[2] = "0"
    except (IndexError, ValueError):
        return version + "-1"
    return ".".join(parts)


