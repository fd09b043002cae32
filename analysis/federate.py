"""Pooling the datasets of several teams (a regional federation).

``analysis pool DATA... --out FED`` writes a new dataset folder holding every
response of the given datasets, after checking that they can be pooled:

- every response carries its survey hash and every survey definition is in
  its dataset (``DATA/definitions/``), so each answer's meaning is known;
- a module id and version means one text everywhere (same content hash);
- within a module id and major version, an item keeps its type and answer
  codes in every definition (lists a site supplies, such as neighbourhoods,
  are exempt: they are labelled per site);
- no response is in two datasets (the ledgers' hashed envelope ids do not
  overlap: the same kiosk's bundles ingested by two teams would count twice).

Anything else is refused with POOL-0xx codes, nothing written. The result is
for analysis only (reports, exports, DuckDB): it has no ledger, so
``analysis ingest`` refuses it (POOL-005). Rules in ``docs/dataset.md``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path

from surveycore.errors import KioskError

from analysis.ingest import dataset_surveys, keep_definitions, scan_responses

FEDERATION_FILE = "federation.json"


class PoolError(KioskError):
    """Datasets that cannot be pooled."""

    code = "POOL-001"


def _ids(data: Path) -> set[bytes]:
    ledger = data / "ledger.sqlite3"
    if not ledger.is_file():
        return set()
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        return {bytes(r[0]) for r in db.execute("SELECT id_hash FROM ingested")}
    finally:
        db.close()


def check(datasets: list[Path]) -> dict:
    """Check that ``datasets`` can be pooled (see the module docstring);
    return every survey definition by hash."""
    surveys: dict = {}
    for d in datasets:
        if not (d / "responses").is_dir():
            raise PoolError(f"{str(d)!r} is not a dataset folder (no responses/); give folders made by "
                            "'analysis ingest'", code="POOL-001")
        hashes = set(scan_responses(d).select("survey_hash").unique().collect()["survey_hash"].to_list())
        own = dataset_surveys(d)
        unknown = sorted(str(h) for h in hashes if h not in own)
        if unknown:
            raise PoolError(f"{str(d)!r} holds responses whose definitions it does not keep (survey hash "
                            f"{', '.join(unknown)}): they were ingested from bundles without definitions; "
                            "ingest bundles exported by the current kiosk software, then pool", code="POOL-002")
        surveys.update(own)
    by_version: dict[tuple[str, str], set[str]] = {}
    items: dict[tuple[str, int, str], set[tuple]] = {}
    for s in surveys.values():
        site_lists = set(s.site.choices)
        for m in s.modules:
            by_version.setdefault((m.id, m.version), set()).add(m.hash)
            for it in m.items:
                if it.is_question and it.choice_list not in site_lists:
                    items.setdefault((m.id, m.major, it.id), set()).add(
                        (it.type, tuple(c.code for c in it.choices), it.minimum, it.maximum))
    clash = sorted(f"{i} {v}" for (i, v), hs in by_version.items() if len(hs) > 1)
    if clash:
        raise PoolError(f"module(s) {', '.join(clash)} have different texts under the same version in these "
                        "datasets; one version must mean one text: the site that changed it must give it a new "
                        "version", code="POOL-003")
    differ = sorted(f"{m}@{major}.{i}" for (m, major, i), specs in items.items() if len(specs) > 1)
    if differ:
        raise PoolError(f"item(s) {', '.join(differ)} have different types or answer codes within one major "
                        "version: their answers cannot be pooled; give the changed module a new major version",
                        code="POOL-004")
    seen: set[bytes] = set()
    for d in datasets:
        ids = _ids(d)
        if ids & seen:
            raise PoolError(f"{len(ids & seen)} response(s) of {str(d)!r} are also in another dataset given (the "
                            "same bundles ingested by two teams); pooling would count them twice", code="POOL-006")
        seen |= ids
    return surveys


def pool(datasets: list[str | Path], out: str | Path) -> int:
    """Write the pooled dataset ``out`` (a new folder); return the number of
    responses."""
    paths = [Path(d) for d in datasets]
    target = Path(out)
    if target.exists():
        raise PoolError(f"{str(target)!r} exists; give a new folder for the pooled dataset", code="POOL-007")
    check(paths)
    tmp = target.with_name(target.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # Files keep their partition; fresh names so two teams' parts never collide.
    for d in paths:
        for f in sorted(d.glob("responses/*.parquet")) + sorted(d.glob("answers/module=*/major=*/*.parquet")):
            dest = tmp / f.parent.relative_to(d) / f"part-{uuid.uuid4().hex}.parquet"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
        root = d / "definitions"
        for manifest in sorted((root / "surveys").glob("*.json")):
            m = json.loads(manifest.read_text(encoding="utf-8"))
            files = {r["file"]: (root / "files" / f"{r['file']}.yaml").read_bytes() for r in [m, *m["modules"]]}
            keep_definitions(tmp, {m["hash"]: (m, files)})
    (tmp / FEDERATION_FILE).write_text(json.dumps({"kind": "health-kiosk-federation", "version": 1,
                                                   "sources": [str(p.resolve()) for p in paths]}, indent=1) + "\n",
                                       encoding="utf-8")
    tmp.replace(target)
    return scan_responses(target).select("rid").collect().height
