"""Opening envelopes with the team's private key(s) and checking them.

This is the only place that decrypts. Every failure is an
:class:`~surveycore.errors.EnvelopeError` with a precise, stable code so ingest can
quarantine the envelope with its reason.

It is also what ingest's worker processes run: this module imports neither
polars nor the questionnaire loader, so a freshly spawned worker is ready in
a fraction of a second, and everything a worker needs (keys as secret bytes,
module definitions as :class:`ModuleSpec`) is picklable.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import nacl.exceptions
import nacl.signing

from surveycore import types
from surveycore.envelope import (HEADER_LEN, INFO_PREFIX, STATUSES, decode_body, parse_header, signed_message,
                                 split_inner)
from surveycore.errors import EnvelopeError, KioskError
from surveycore.keys import fingerprint, hpke_suite

from surveycore.response import BODY_FIELDS, BODY_VERSION, ID_RE, PERIOD_RE, REQUIRED_ORDER

from analysis.keys import TeamPrivateKey, key_from_secret



# ------------------------------------------------------------------ opening

@functools.lru_cache(maxsize=256)
def _verify_key(device: bytes) -> nacl.signing.VerifyKey:
    # A site has a handful of kiosks: parse each device key once.
    return nacl.signing.VerifyKey(device)


def verify_signature(header: bytes, data: bytes, device: bytes, signature: bytes) -> None:
    """Check the device's Ed25519 signature over header and body (ENV-013 if not).

    The kiosk signs with ``cryptography``; verification uses libsodium
    (PyNaCl), which checks a signature in half the time OpenSSL takes and
    is the larger part of ingest's work per envelope. libsodium is also
    stricter than RFC 8032 requires: it rejects small-order device keys and
    non-canonical signatures, which no honest signer produces.
    """
    try:
        _verify_key(device).verify(signed_message(header, data), signature)
    except nacl.exceptions.CryptoError:
        raise EnvelopeError("device signature does not verify: forged or altered response",
                            code="ENV-013") from None


def parse_inner(inner: bytes, header: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a decrypted inner plaintext, verify its signature, and return the
    body and the raw device public key."""
    data, device, signature = split_inner(inner)
    verify_signature(header, data, device, signature)
    return decode_body(data), device


class _Opener:
    """Keys, trusted devices and HPKE suite objects for opening envelopes."""

    def __init__(self, keys: dict[bytes, TeamPrivateKey], trusted_devices: Iterable[Any] | None) -> None:
        self.keys = keys
        self.suites = {k.suite: hpke_suite(k.suite) for k in keys.values()}
        # Trusted devices as raw 32-byte keys or as fingerprint strings.
        if trusted_devices is None:
            self.trusted_raw: frozenset[bytes] | None = None
            self.trusted_fp: frozenset[str] = frozenset()
        else:
            items = list(trusted_devices)
            self.trusted_raw = frozenset(bytes(d) for d in items if isinstance(d, (bytes, bytearray)))
            self.trusted_fp = frozenset(d for d in items if isinstance(d, str))

    def open(self, envelope: bytes) -> tuple[bytes, bytes]:
        """Decrypt and verify; return (signed body bytes, device public key)."""
        header = parse_header(envelope)
        key = self.keys.get(header.key_id)
        if key is None:
            raise EnvelopeError(f"sealed for key {header.key_id.hex()}, which is not one of ours "
                                f"({', '.join(k.hex() for k in self.keys) or 'none loaded'})",
                                code="ENV-020")
        if key.suite != header.suite:
            raise EnvelopeError("header suite does not match the key's suite: altered header",
                                code="ENV-021")
        raw_header = envelope[:HEADER_LEN]
        try:
            inner = self.suites[key.suite].decrypt(envelope[HEADER_LEN:], key.key,
                                                   info=INFO_PREFIX + raw_header)
        except Exception:
            raise EnvelopeError("cannot open: the envelope was altered, truncated, or sealed for another "
                                "key", code="ENV-022") from None
        data, device, signature = split_inner(inner)
        # The trust check comes before the (costlier) signature check.
        if self.trusted_raw is not None and device not in self.trusted_raw \
                and fingerprint(device) not in self.trusted_fp:
            raise EnvelopeError(f"signed by device {fingerprint(device)}, which is not in the trusted "
                                "devices list; add its device.pub with 'analysis trust' if it is one "
                                "of yours", code="ENV-023")
        verify_signature(raw_header, data, device, signature)
        return data, device


def open_envelope(envelope: bytes, keys: dict[bytes, TeamPrivateKey],
                  trusted_devices: Iterable[Any] | None = None) -> tuple[dict[str, Any], str]:
    """Decrypt, verify and parse one envelope; return (body, device fingerprint).

    ``keys`` maps recipient key ids to private keys (several during a key
    rotation). ``trusted_devices`` holds the accepted devices as raw 32-byte
    public keys or fingerprint strings; ``None`` accepts any device whose
    signature verifies.
    """
    data, device = _Opener(keys, trusted_devices).open(envelope)
    return decode_body(data), fingerprint(device)


# --------------------------------------------------------------- validation

@dataclass(frozen=True)
class ItemSpec:
    """What validation and flattening need to know of one item."""

    key: str
    id: str
    type: str
    codes: tuple[str, ...]
    minimum: int | None
    maximum: int | None
    is_question: bool
    # How a non-refused answer becomes dataset rows (state, value): the item
    # type's rule, looked up once here rather than per answer.
    flatten: Callable[[Any], list[types.Row]] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ModuleSpec:
    """A module definition reduced to what ingest needs (picklable)."""

    id: str
    version: str
    hash: str
    items: tuple[ItemSpec, ...]

    @property
    def major(self) -> int:
        """Major version: analyses pool only the same id and major version."""
        return int(self.version.split(".")[0])

    @classmethod
    def of(cls, module: Any) -> "ModuleSpec":
        """From a loaded :class:`surveycore.questionnaire.Module`: the
        picklable projection a worker process needs, derived from the one
        questionnaire model (nothing here restates a fact of it)."""
        return cls(module.id, module.version, module.hash, tuple(
            ItemSpec(it.key, it.id, it.type, tuple(c.code for c in it.choices), it.minimum, it.maximum,
                     it.is_question, types.get(it.type).flatten) for it in module.items))


@dataclass(frozen=True)
class Catalogue:
    """Module definitions known to ingest: by (id, version), and per survey
    hash with the survey's site choice lists applied (a site supplies lists
    such as neighbourhoods without editing the module)."""

    modules: dict[tuple[str, str], ModuleSpec] = field(default_factory=dict)
    surveys: dict[str, dict[tuple[str, str], ModuleSpec]] = field(default_factory=dict)
    by_hash: dict[tuple[str, str, str], ModuleSpec] = field(default_factory=dict)
    # Filled while validating: per survey hash, the last module references
    # seen and what they resolved to (a cache).
    resolved: dict[str, tuple[list, tuple[list[ModuleSpec], dict[str, ItemSpec]]]] = field(
        default_factory=dict, compare=False, repr=False)


def _bad(message: str, code: str) -> EnvelopeError:
    return EnvelopeError(message, code=code)


def _resolve(refs: list[dict], per_survey: dict[tuple[str, str], ModuleSpec],
             catalogue: "Catalogue") -> tuple[list[ModuleSpec], dict[str, ItemSpec]]:
    """The module definitions a body names, checked by id, version and hash,
    and their items by key."""
    used: list[ModuleSpec] = []
    for ref in refs:
        ident = (str(ref.get("id")), str(ref.get("version")))
        m = per_survey.get(ident) or catalogue.by_hash.get((*ident, str(ref.get("hash")))) or \
            catalogue.modules.get(ident)
        if m is None:
            raise _bad(f"module {ref.get('id')!r} version {ref.get('version')} is not in the "
                       "questionnaire folders given to ingest (--questionnaires)", "ING-003")
        if m.hash != ref.get("hash"):
            raise _bad(f"module {m.id} {m.version}: definition hash {ref.get('hash')} differs from "
                       f"the local file's {m.hash}; use the exact module file the kiosk ran", "ING-004")
        used.append(m)
    return used, {it.key: it for m in used for it in m.items}


def validate_body(body: dict[str, Any], catalogue: Catalogue) -> list[ModuleSpec]:
    """Check a decrypted body against the format and the module definitions;
    return the modules it uses or raise :class:`EnvelopeError` with the
    first problem (ING-0xx codes, see ``docs/envelope.md``)."""
    if body.keys() != BODY_FIELDS:  # the common case is exactly the fields of §3
        for key in REQUIRED_ORDER:
            if key not in body:
                raise _bad(f"response lacks field {key!r}", "ING-001")
    version = body["v"]
    if version != BODY_VERSION or isinstance(version, bool):
        raise _bad(f"response format version {version!r} is not supported (expected {BODY_VERSION}); "
                   "update the analysis software", "ING-008")
    if body.keys() != BODY_FIELDS:
        unknown = sorted(body.keys() - BODY_FIELDS)
        raise _bad(f"response has unknown field(s) {', '.join(map(repr, unknown))} for format version "
                   f"{BODY_VERSION}", "ING-010")
    envelope_id = body["id"]
    if type(envelope_id) is not str or not ID_RE.fullmatch(envelope_id):
        raise _bad("field 'id' is not 32 lowercase hexadecimal digits", "ING-009")
    survey = body["survey"]
    if type(survey) is not dict or type(survey.get("id")) is not str or \
            type(survey.get("version")) is not str or type(survey.get("hash")) is not str:
        raise _bad("field 'survey' must hold id, version and hash as text", "ING-009")
    for key in ("centre", "lang"):
        if type(body[key]) is not str or not body[key]:
            raise _bad(f"field {key!r} must be non-empty text", "ING-009")
    period = body["period"]
    if type(period) is not str or not PERIOD_RE.fullmatch(period):
        raise _bad(f"field 'period' {str(period)[:40]!r} is not an ISO week, month or quarter", "ING-009")
    if type(body["test"]) is not bool:
        raise _bad("field 'test' must be true or false", "ING-009")
    if body["status"] not in STATUSES:
        raise _bad(f"unknown status {body['status']!r}", "ING-002")
    refs = body["modules"]
    # Every response of a survey names the same modules: resolve them once
    # per survey hash, reusing the result while the references are equal.
    cached = catalogue.resolved.get(survey["hash"])
    if cached is not None and cached[0] == refs:
        used, items = cached[1]
    else:
        if type(refs) is not list or not all(type(r) is dict for r in refs):
            raise _bad("field 'modules' must be a list of {id, version, hash}", "ING-009")
        resolved = _resolve(refs, catalogue.surveys.get(survey["hash"], {}), catalogue)
        catalogue.resolved[survey["hash"]] = (copy.deepcopy(refs), resolved)
        used, items = resolved
    answers = body["answers"]
    if not isinstance(answers, dict):
        raise _bad("answers are not a mapping", "ING-005")
    skipped = body["skipped"]
    if not isinstance(skipped, list) or not all(isinstance(k, str) for k in skipped):
        raise _bad("field 'skipped' must be a list of item keys", "ING-009")
    if body["status"] == "declined" and (answers or skipped):
        raise _bad("a response declined at consent carries answers", "ING-011")
    for key, value in answers.items():
        it = items.get(key)
        if it is None or not it.is_question:
            raise _bad(f"answer to unknown item {key!r}", "ING-006")
        if value is None:
            continue  # "prefer not to answer"
        # The response schema's rule, the very one the kiosk applied.
        if not types.answer_fits(it.type, value, it.codes, it.minimum, it.maximum):
            raise _bad(f"answer {value!r} is not valid for item {key!r}", "ING-007")
    for key in skipped:
        if key not in items:
            raise _bad(f"skipped item {key!r} is unknown", "ING-006")
    return used


# --------------------------------------------------------------- flattening

ResponseRow = tuple[int, str, str, str, str, str, str, bool, str]     # RESPONSE_SCHEMA order
AnswerRow = tuple[int, str, int, str, str, str, str | None]           # ANSWER_SCHEMA order


def rows_of(body: dict[str, Any], used: list[ModuleSpec], rid: int) -> tuple[ResponseRow, list[AnswerRow]]:
    """Flatten one response into a responses row and answer rows (tuples in
    the column order of ``RESPONSE_SCHEMA`` and ``ANSWER_SCHEMA``).

    Answer states: answered (value = code or number), refused ("prefer not
    to answer"), skipped (not shown by skip logic), none (multiple choice,
    nothing chosen). Items neither answered nor skipped were never reached.
    """
    survey = body["survey"]
    response = (rid, str(survey["id"]), str(survey["version"]), str(body["centre"]), str(body["period"]),
                str(body["lang"]), str(body["status"]), bool(body.get("test", False)), str(survey["hash"]))
    answers = body["answers"]
    skipped = set(body.get("skipped", []))
    rows: list[AnswerRow] = []
    for m in used:
        major = m.major
        for it in m.items:
            if not it.is_question:
                continue
            if it.key in skipped:
                rows.append((rid, m.id, major, m.version, it.id, "skipped", None))
            elif it.key in answers:
                value = answers[it.key]
                if value is None:
                    rows.append((rid, m.id, major, m.version, it.id, "refused", None))
                else:
                    # How an answer becomes rows is its type's to say.
                    assert it.flatten is not None  # every question's type has one
                    for state, text in it.flatten(value):
                        rows.append((rid, m.id, major, m.version, it.id, state, text))
    return response, rows


# ----------------------------------------------------------- batch opening

@dataclass(slots=True)
class Opened:
    """The outcome for one envelope of a batch. On success ``code`` is None;
    otherwise ``code`` and ``reason`` say why it is quarantined."""

    index: int
    code: str | None = None
    reason: str | None = None
    envelope_id: str | None = None
    body_hash: bytes | None = None
    response: ResponseRow | None = None
    answers: list[AnswerRow] | None = None
    device: bytes | None = None  # raw device public key: receipts are made per kiosk


class BatchOpener:
    """Opens, verifies, validates and flattens envelopes, in-process or in a
    worker process."""

    def __init__(self, keys: dict[bytes, TeamPrivateKey], trusted_devices: Iterable[Any] | None,
                 catalogue: Catalogue) -> None:
        self.opener = _Opener(keys, trusted_devices)
        self.catalogue = catalogue

    def open_one(self, index: int, envelope: bytes) -> Opened:
        """Everything ingest does to one envelope before deduplication."""
        try:
            data, device = self.opener.open(envelope)
            body = decode_body(data)
            used = validate_body(body, self.catalogue)
        except KioskError as exc:
            return Opened(index, exc.code, f"[{exc.code}] {exc.message}")  # a ledger record, rendered by the CLI
        except Exception as exc:  # one odd envelope must not stop the run; it is kept in quarantine
            return Opened(index, "ING-090", f"[ING-090] could not be processed ({exc.__class__.__name__}); "
                                            "it is kept in quarantine: report it to the developers")
        # The body hash tells a replay (same content) from a conflicting
        # response that reuses an id.
        response, answers = rows_of(body, used, secrets.randbits(64))
        return Opened(index, None, None, body["id"], hashlib.sha256(data).digest(), response, answers, device)

    def open_batch(self, batch: list[tuple[int, bytes]]) -> list[Opened]:
        """Open a batch of (index, envelope) pairs."""
        return [self.open_one(i, env) for i, env in batch]


# Worker-process state, set once by the pool initializer.
_WORKER_KEYS: dict[bytes, TeamPrivateKey] = {}
_WORKER_TRUSTED: list[Any] | None = None
_WORKER_OPENERS: dict[int, BatchOpener] = {}


def _die_with_parent() -> None:
    """Linux: a worker is killed with the ingest that started it (even by
    SIGKILL), instead of failing to send its results to a dead parent and
    printing BrokenPipeError tracebacks."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request above
        os._exit(0)


def init_worker(key_secrets: list[tuple[int, bytes]], trusted_devices: list[Any] | None) -> None:
    """Pool initializer: rebuild the keys from their secret bytes (key
    objects cannot be pickled). The catalogue comes with each task, so the
    pool can start before it is loaded."""
    global _WORKER_TRUSTED
    _die_with_parent()
    for suite, secret in key_secrets:
        k = key_from_secret(suite, secret)
        _WORKER_KEYS[k.public.key_id] = k
    _WORKER_TRUSTED = trusted_devices


def worker_open(catalogue: Catalogue, token: int, batch: list[tuple[int, bytes]]) -> list[Opened]:
    """Pool task: open one batch with the keys from :func:`init_worker`;
    ``token`` identifies the run so its opener is built once per worker."""
    opener = _WORKER_OPENERS.get(token)
    if opener is None:
        _WORKER_OPENERS.clear()
        opener = _WORKER_OPENERS[token] = BatchOpener(_WORKER_KEYS, _WORKER_TRUSTED, catalogue)
    return opener.open_batch(batch)
