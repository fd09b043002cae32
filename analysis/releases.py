"""The release ledger: every public release of a dataset, and the check of a
new release against every earlier one.

The cell key method makes two releases of the same persons identical and
turns the difference of two releases into noise, but a release that adds a
single respondent to an earlier one still invites differencing (the mean of
a score before and after, every table at once). So a new public release
(report or aggregated export) is refused when the responses it covers
differ from those of an earlier release by 1 to ``k - 1``: either the same
responses (the same figures come out again) or at least ``k`` more.

The ledger is ``DATA/releases.jsonl``, one JSON object per release: date
(day only), kind (``report`` / ``export``), format, output file name, ``k``,
the number of responses covered and a fingerprint of them (BLAKE2b of
their sorted rids, which are themselves never published). A pooled
dataset's ledger starts with its sources' releases, each with the
``dataset`` it was made from (``analysis pool`` keeps the rids, so the
fingerprints still apply).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from surveycore.errors import KioskError

from analysis.ingest import scan_responses

LEDGER = "releases.jsonl"


class ReleaseError(KioskError):
    """A public release that would give persons away, or an unreadable ledger."""

    code = "REL-001"


@dataclass(frozen=True)
class Coverage:
    """The responses a release covers: how many, and their fingerprint."""

    responses: int
    fingerprint: str


def coverage(data_dir: str | Path, responses: pl.LazyFrame | None = None) -> Coverage:
    """The non-test responses of the dataset (every release counts them), or
    of ``responses`` (a release restricted to some of them)."""
    frame = scan_responses(data_dir) if responses is None else responses
    rids = frame.filter(~pl.col("test")).select("rid").collect(engine="streaming")["rid"]
    if rids.dtype.is_integer():  # as ingest writes them: one pass over the sorted 64-bit integers
        data = rids.cast(pl.UInt64).sort().to_numpy().astype("<u8").tobytes()
    else:  # text rids of older datasets
        data = "\n".join(rids.cast(pl.String).sort().to_list()).encode()
    return Coverage(len(rids), hashlib.blake2b(data, digest_size=16).hexdigest())


def history(data_dir: str | Path) -> list[dict[str, object]]:
    """The earlier releases of the dataset, oldest first."""
    path = Path(data_dir) / LEDGER
    if not path.exists():
        return []
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            int(entry["responses"]), str(entry["fingerprint"])
        except (ValueError, KeyError, TypeError):
            raise ReleaseError(f"{path}:{number}: unreadable release record; restore the file from a backup "
                               "(it lists the earlier releases every new one is checked against)",
                               code="REL-002") from None
        out.append(entry)
    return out


def check(data_dir: str | Path, k: int, responses: pl.LazyFrame | None = None) -> Coverage:
    """Refuse a release whose responses differ from an earlier release's by 1 to ``k - 1``.

    Returns the coverage of the new release (for :func:`record`).

    Raises:
        ReleaseError: ``REL-001`` with the earlier release and how many more
            responses are needed; ``REL-002`` if the ledger is unreadable.
    """
    now = coverage(data_dir, responses)
    for entry in history(data_dir):
        if entry["fingerprint"] == now.fingerprint:
            continue  # the same responses: the same figures again
        difference = abs(now.responses - int(entry["responses"]))  # type: ignore[call-overload]
        if difference < k:
            # A pooled dataset's ledger also holds its sources' releases, each naming its dataset.
            where = f", dataset {entry['dataset']!r}" if "dataset" in entry else ""
            raise ReleaseError(
                f"this release would cover {now.responses} responses and the {entry['kind']} of "
                f"{entry['date']} ({entry.get('file', '')}{where}) covered {entry['responses']}: two public releases "
                f"that differ by fewer than {k} responses let anyone compare them and find what the new "
                f"respondents answered. Wait until at least {k} responses differ "
                f"({int(entry['responses']) + k} or more in total), or publish the same data again.",  # type: ignore[call-overload]
                code="REL-001")
    return now


def record(data_dir: str | Path, kind: str, fmt: str, out: str | Path, k: int, covered: Coverage) -> None:
    """Append a release to the ledger (after its files are written)."""
    entry = {"date": dt.date.today().isoformat(), "kind": kind, "format": fmt, "file": Path(out).name, "k": k,
             "responses": covered.responses, "fingerprint": covered.fingerprint}
    with open(Path(data_dir) / LEDGER, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")
