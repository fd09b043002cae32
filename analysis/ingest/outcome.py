"""The outcome of an ingest: the summary of one run (:class:`IngestResult`)
and, per quarantine reason, what the team should do (:data:`FIXES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field



_AGAIN = ("export the bundle again from the kiosk (nothing was removed there) and ingest the new file")


_DEFS = ("the definitions the kiosk ran are not known here: export a new bundle from the kiosk (it carries "
         "them), or give the site's survey folder with --questionnaires; then run 'analysis ingest "
         "--retry-quarantine --key K --data DATA'")


_DAMAGED = ("damaged or altered on the way; nothing to do here: the kiosk keeps these responses and sends them "
            "again in its next bundle")


# The fix printed once per reason code in the summary (docs/envelope.md §5).
FIXES = {
    "BND-001": _AGAIN, "BND-002": "give a bundle written by 'kiosk export'", "BND-003": _AGAIN,
    "BND-004": "update the analysis software", "BND-005": _AGAIN, "BND-006": _AGAIN,
    "BND-007": "export more often so each bundle stays within the limits", "BND-008": "copy the bundle to a file",
    "BND-009": "check the file's permissions", "BND-010": _AGAIN, "BND-011": _AGAIN, "BND-012": _AGAIN,
    "ENV-002": _DAMAGED, "ENV-003": _DAMAGED, "ENV-004": "update the analysis software", "ENV-005": _DAMAGED,
    "ENV-010": _DAMAGED, "ENV-011": _DAMAGED, "ENV-012": _DAMAGED, "ENV-015": _DAMAGED, "ENV-021": _DAMAGED,
    "ENV-022": _DAMAGED,
    "ENV-013": "forged or altered responses: keep them in quarantine and check who handled the bundle",
    "ENV-020": "give the team key they are sealed for with --key (repeat --key during a key rotation), then run "
               "'analysis ingest --retry-quarantine'",
    "ENV-023": "once trusted, run 'analysis ingest --retry-quarantine' with the same --key and --data",
    "ING-003": _DEFS, "ING-004": _DEFS, "ING-006": _DEFS, "ING-007": _DEFS,
    "ING-022": "an envelope id reused with other content (replayed or forged): keep it in quarantine and check "
               "the kiosk",
    "ING-090": "report it to the developers; the envelope is kept in quarantine",
}


# At most this many quarantined envelopes of one run are kept one by one (a
# copy, a log line, a ledger row); beyond it, one line and one row per reason
# code count the rest, which stay on their kiosk (never receipted) and come
# back in its next bundle. Hostile bundles cannot fill the disk this way.
QUARANTINE_DETAIL_MAX = 1000


@dataclass
class IngestResult:
    """What one ingest run did."""

    ingested: int = 0
    duplicates: int = 0
    quarantined: list[tuple[str, int, str]] = field(default_factory=list)  # (bundle, index, reason)
    notes: list[str] = field(default_factory=list)  # cross-check findings, for the command line
    resolved: int = 0  # envelopes that left the quarantine (--retry-quarantine)
    receipt_ids: list[str] = field(default_factory=list)
    # The kiosk (raw device public key) of each receipted envelope: one receipt per kiosk.
    receipt_devices: dict[str, bytes] = field(default_factory=dict)
    duplicate_list: list[tuple[str, int, str]] = field(default_factory=list)  # (bundle, index, reason)
    run: int = 0
    envelopes: int = 0
    workers: int = 1  # processes that opened envelopes: this one + spawned workers
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks

    def summary(self) -> str:
        """One line per fact and one per reason code (never one per
        envelope), for the command line."""
        lines = [f"ingested: {self.ingested}", f"already ingested (skipped): {self.duplicates}",
                 f"quarantined: {len(self.quarantined)}"]
        groups: dict[str, list[tuple[str, int, str]]] = {}
        for entry in self.quarantined:
            groups.setdefault(entry[2][1:8], []).append(entry)
        for code, entries in sorted(groups.items()):
            bundle, index, reason = entries[0]
            where = f"{bundle}" if index < 0 else f"{bundle} #{index}"
            what = "bundle(s)" if all(i < 0 for _, i, _ in entries) else "envelope(s)"
            more = f" and {len(entries) - 1} more" if len(entries) > 1 else ""
            fix = FIXES.get(code)
            lines.append(f"  [{code}] {len(entries)} {what}, e.g. {where}{more}: {reason[10:]}"
                         + (f"; fix: {fix}" if fix else ""))
        return "\n".join(lines)
