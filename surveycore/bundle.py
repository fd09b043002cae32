"""The bundle format: the file that carries envelopes from a kiosk to the
analysts (written by ``kiosk export``, read by ``analysis ingest``).

Layout (see ``docs/envelope.md``): magic, version, (version 2: the signed
definitions block,) count, length-prefixed envelopes, then a SHA-256 of
everything before it. Reading is bounded by the limits below so a damaged
or hostile file costs the analysts' machine little.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from surveycore.errors import EnvelopeError, StoreError

BUNDLE_MAGIC = b"HKBUNDLE"
# Version 2 carries the signed questionnaire definitions; version 1 (no
# definitions) is still read.
BUNDLE_VERSION = 2
BUNDLE_VERSION_LEGACY = 1
BUNDLE_DIGEST_LEN = 32
# No envelope comes near this; a larger length field means a damaged bundle.
MAX_ENVELOPE_LEN = 1 << 20
# What one bundle may cost the analysts' machine: a kiosk exporting weekly
# stays orders of magnitude below; a larger file is refused whole (BND-007)
# before it is read.
MAX_BUNDLE_ENVELOPES = 200_000
MAX_BUNDLE_BYTES = 1 << 30
MAX_DEFINITIONS_LEN = 16 << 20


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk (after a rename into it)."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_part(part: Path, data: bytes) -> None:
    """Write ``data`` to ``part`` and flush it to disk before returning."""
    with open(part, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class Bundle:
    """Envelopes carried from a kiosk to the analysts."""

    envelopes: list[bytes]
    sha256: str = ""  # hex checksum stored at the end of the file
    # Version 2: the signed block of the questionnaire definitions the
    # envelopes were answered with (kiosk.definitions); empty in version 1.
    definitions: bytes = b""
    version: int = BUNDLE_VERSION_LEGACY


def bundle_bytes(envelopes: list[bytes], definitions: bytes | None = None) -> bytes:
    """The bytes of a bundle: magic, version, (version 2: the definitions
    block,) count, length-prefixed envelopes, then a SHA-256 of everything
    before it. Without ``definitions`` a version 1 bundle is written."""
    if definitions is None:
        parts = [BUNDLE_MAGIC, struct.pack(">BI", BUNDLE_VERSION_LEGACY, len(envelopes))]
    else:
        parts = [BUNDLE_MAGIC, struct.pack(">BI", BUNDLE_VERSION, len(definitions)), definitions,
                 struct.pack(">I", len(envelopes))]
    for env in envelopes:
        parts.append(struct.pack(">I", len(env)))
        parts.append(env)
    payload = b"".join(parts)
    return payload + hashlib.sha256(payload).digest()


def write_bundle(path: str | Path, envelopes: list[bytes], definitions: bytes | None = None) -> None:
    """Write a bundle durably (with its signed ``definitions`` block, see
    :func:`kiosk.definitions.block_of` (the kiosk signs it)). It is written to a temporary name,
    flushed to disk, then renamed, so a half-written bundle never looks
    complete."""
    p = Path(path)
    tmp = p.with_name(p.name + ".part")
    try:
        write_part(tmp, bundle_bytes(envelopes, definitions))
        tmp.replace(p)
        fsync_dir(p.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write the bundle {str(p)!r}: {exc.strerror}; nothing was removed "
                         "from the kiosk", code="S-020") from None


def display_name(path: str | Path) -> str:
    """A bundle's path as printable text: bytes that are not UTF-8 in a file
    name (kept by Python as surrogates) are shown as U+FFFD instead of
    failing when printed or stored."""
    return os.fsencode(str(path)).decode("utf-8", "replace")


def bundle_count(path: str | Path) -> int:
    """The envelope count a bundle's header announces, read without the rest
    of the file (0 when it is unreadable or not a bundle: :func:`read_bundle`
    then says why)."""
    head = len(BUNDLE_MAGIC) + 5
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return 0
        with open(path, "rb") as fh:
            data = fh.read(head)
            if len(data) < head or data[:len(BUNDLE_MAGIC)] != BUNDLE_MAGIC:
                return 0
            version, value = struct.unpack(">BI", data[len(BUNDLE_MAGIC):head])
            if version == BUNDLE_VERSION:
                fh.seek(head + value)
                more = fh.read(4)
                return int(struct.unpack(">I", more)[0]) if len(more) == 4 else 0
            return int(value)
    except (OSError, ValueError):
        return 0


class _Reader:
    """Reads a bundle file in pieces, hashing what it reads."""

    def __init__(self, fh: Any, size: int) -> None:
        self.fh, self.size, self.off = fh, size, 0
        self.digest = hashlib.sha256()

    def take(self, n: int) -> bytes:
        data: bytes = self.fh.read(n)
        self.digest.update(data)
        self.off += len(data)
        return data


def check_bundle_file(path: str | Path) -> None:
    """Refuse, before any work (and before a passphrase is asked), a bundle
    path that is missing (BND-001), a folder (BND-002), not a regular file
    (BND-008), too large (BND-007) or unreadable (BND-009)."""
    p = Path(path)
    shown = display_name(p)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise EnvelopeError(f"bundle {shown!r} not found", code="BND-001") from None
    except OSError as exc:
        raise EnvelopeError(f"bundle {shown!r} cannot be read ({exc.strerror})", code="BND-009") from None
    if stat.S_ISDIR(st.st_mode):
        raise EnvelopeError(f"{shown!r} is a folder, not a bundle", code="BND-002")
    if not stat.S_ISREG(st.st_mode):
        # A pipe or a device would block or never end: only files are bundles.
        raise EnvelopeError(f"{shown!r} is not a regular file (a pipe, socket or device); copy the bundle "
                            "to a file first", code="BND-008")
    if st.st_size > MAX_BUNDLE_BYTES:
        raise EnvelopeError(f"bundle {shown!r} is {st.st_size:,} bytes, more than one bundle may hold "
                            f"({MAX_BUNDLE_BYTES:,}); export more often so each bundle is smaller",
                            code="BND-007")
    try:
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise EnvelopeError(f"bundle {shown!r} cannot be read ({exc.strerror})", code="BND-009") from None


def read_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle, reading the file in pieces and within the
    limits of :data:`MAX_BUNDLE_BYTES` and :data:`MAX_BUNDLE_ENVELOPES`;
    raise :class:`EnvelopeError` naming the file and the problem: missing
    (BND-001), not a bundle (BND-002), damaged (BND-003), unknown version
    (BND-004), malformed (BND-005), truncated (BND-006), beyond the limits
    (BND-007), not a regular file (BND-008), unreadable (BND-009), bad
    definitions (BND-010, BND-011). Holds every envelope in memory: to go
    through a large bundle, use :class:`BundleReader`."""
    with BundleReader(path) as reader:
        envelopes = list(reader)
        return Bundle(envelopes, reader.sha256, reader.definitions, reader.version)


class BundleReader:
    """A bundle read one envelope at a time, so that memory does not grow
    with the bundle: the header (version, definitions, announced count) is
    read and checked on opening, the envelopes are yielded as the file is
    read, and the end of the iteration checks the checksum and that nothing
    follows it. Raises :class:`EnvelopeError` with the codes of
    :func:`read_bundle`; an envelope yielded before a damaged end is not to
    be trusted (the caller discards what it got from the bundle).

    ``fh``: an already opened binary file (tests use one that records its
    reads); by default ``path`` is opened after :func:`check_bundle_file`.
    """

    def __init__(self, path: str | Path, fh: Any = None) -> None:
        p = Path(path)
        self.shown = display_name(p)
        self.sha256 = ""  # set once the whole bundle was read and verified
        self.definitions = b""
        self.version = BUNDLE_VERSION_LEGACY
        self.count = 0
        own = self._own = fh is None
        self._fh = None
        if own:
            check_bundle_file(p)
        try:
            if own:
                fh = open(p, "rb")
            self._fh = fh
            self._r = _Reader(fh, os.fstat(fh.fileno()).st_size)
            self._head()
        except OSError as exc:
            self.close()
            raise EnvelopeError(f"bundle {self.shown!r} cannot be read ({exc.strerror})", code="BND-009") from None
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "BundleReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def offset(self) -> int:
        """Bytes read so far (for progress)."""
        return self._r.off

    def close(self) -> None:
        """Close the file (when this reader opened it)."""
        if self._fh is not None and self._own:
            self._fh.close()
        self._fh = None

    def _head(self) -> None:
        r, shown = self._r, self.shown
        head = len(BUNDLE_MAGIC) + 5
        data = r.take(head)
        if data[:len(BUNDLE_MAGIC)] != BUNDLE_MAGIC:
            raise EnvelopeError(f"{shown!r} is not a kiosk bundle (bad magic bytes)", code="BND-002")
        if len(data) < head:
            raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside its header); {_AGAIN}", code="BND-006")
        version, value = struct.unpack(">BI", data[len(BUNDLE_MAGIC):head])
        if version not in (BUNDLE_VERSION_LEGACY, BUNDLE_VERSION):
            raise EnvelopeError(f"bundle {shown!r} has version {version}; expected {BUNDLE_VERSION} (or "
                                f"{BUNDLE_VERSION_LEGACY})", code="BND-004")
        count = value
        if version == BUNDLE_VERSION:
            if value > MAX_DEFINITIONS_LEN:
                raise EnvelopeError(f"bundle {shown!r} is damaged (its definitions claim {value} bytes); "
                                    f"{_AGAIN}", code="BND-003")
            self.definitions = r.take(value)
            more = r.take(4)
            if len(self.definitions) < value or len(more) < 4:
                raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside its definitions); {_AGAIN}",
                                    code="BND-006")
            (count,) = struct.unpack(">I", more)
        if count > MAX_BUNDLE_ENVELOPES:
            raise EnvelopeError(f"bundle {shown!r} announces {count:,} envelopes, more than one bundle may hold "
                                f"({MAX_BUNDLE_ENVELOPES:,}); export more often so each bundle is smaller",
                                code="BND-007")
        self.version, self.count = version, count

    def __iter__(self) -> Iterator[bytes]:
        r, shown, count = self._r, self.shown, self.count
        try:
            # Walk the structure first so a short file is reported as
            # truncated, then check the digest, which catches any other change.
            for k in range(count):
                raw = r.take(4)
                if len(raw) < 4:
                    raise EnvelopeError(f"bundle {shown!r} is truncated (ends before envelope {k + 1} of "
                                        f"{count}); {_AGAIN}", code="BND-006")
                (n,) = struct.unpack(">I", raw)
                if n > MAX_ENVELOPE_LEN:
                    raise EnvelopeError(f"bundle {shown!r} is damaged (envelope {k + 1} of {count} claims "
                                        f"{n} bytes); {_AGAIN}", code="BND-003")
                env = r.take(n)
                if len(env) < n:
                    raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside envelope {k + 1} of "
                                        f"{count}); {_AGAIN}", code="BND-006")
                yield env
            digest = r.digest.digest()
            stored = r.fh.read(BUNDLE_DIGEST_LEN)
            if len(stored) < BUNDLE_DIGEST_LEN:
                raise EnvelopeError(f"bundle {shown!r} is truncated (checksum missing); {_AGAIN}", code="BND-006")
            if stored != digest:
                raise EnvelopeError(f"bundle {shown!r} is damaged (checksum mismatch); {_AGAIN}", code="BND-003")
            trailing = r.size - r.off - BUNDLE_DIGEST_LEN
            if trailing > 0 or r.fh.read(1):
                raise EnvelopeError(f"bundle {shown!r} has {max(trailing, 1)} trailing byte(s) after its "
                                    f"checksum; {_AGAIN}", code="BND-005")
        except OSError as exc:
            raise EnvelopeError(f"bundle {shown!r} cannot be read ({exc.strerror})", code="BND-009") from None
        self.sha256 = digest.hex()


_AGAIN = "export it again from the kiosk: nothing was removed there"

