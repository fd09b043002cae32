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
  overlap: the same kiosk's bundles ingested by two teams would count twice;
  nor do response ids: a pooled dataset holds the very rows of its sources),
  and no dataset is given twice.

Anything else is refused with POOL-0xx codes, nothing written. The result is
for analysis only (reports, exports, DuckDB): it has no ledger, so
``analysis ingest`` refuses it (POOL-005). It keeps the hashed envelope ids
of every response it holds (``pooled_ids.sqlite3``), so that pooling it again
with one of its sources is refused too, and the release records of its
sources (``releases.jsonl``, each naming its dataset), so that a region's
report that differs from a team's earlier one by a few respondents is
refused (REL-001) as it would be within the team. Rules in
``docs/dataset.md``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path

from surveycore.errors import KioskError

from analysis.ingest import dataset_surveys, keep_definitions, scan_responses
from analysis.releases import GROUPS_DIR, LEDGER, history

FEDERATION_FILE = "federation.json"
# The hashed envelope ids of a pooled dataset's responses (its sources' ledgers).
POOLED_IDS = "pooled_ids.sqlite3"


class PoolError(KioskError):
    """Datasets that cannot be pooled."""

    code = "POOL-001"


def _ids(data: Path) -> set[bytes]:
    """The hashed envelope ids of a dataset's responses: its ingest ledger's,
    or those a pooled dataset kept of its sources."""
    for name in ("ledger.sqlite3", POOLED_IDS):
        ledger = data / name
        if ledger.is_file():
            break
    else:
        return set()
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        return {bytes(r[0]) for r in db.execute("SELECT id_hash FROM ingested")}
    finally:
        db.close()


def _rids(data: Path) -> set[int]:
    # Response ids are drawn at ingest: two datasets share them only when one
    # holds the other's rows (a pooled dataset and a source of it).
    return set(scan_responses(data).select("rid").collect()["rid"].to_list())


def _places(where: dict[str, set[str]]) -> str:
    """``{"in 'a/dataset'": {"LYON", "LILLE"}}`` as "in 'a/dataset' (LILLE, LYON)"."""
    return ", ".join(f"{w} ({', '.join(sorted(c))})" for w, c in sorted(where.items()))


def _spec_text(spec: tuple) -> str:
    """An item's type and answer codes (or range), as POOL-004 names them."""
    kind, codes, low, high = spec
    if codes:
        return f"{kind}, codes {' '.join(codes)}"
    return f"{kind}, range {low}-{high}" if low is not None or high is not None else str(kind)


def _overlap(d: Path, other: Path, n: int) -> PoolError:
    return PoolError(f"{n} response(s) of {str(d)!r} are also in {str(other)!r} (a pooled dataset already holds "
                     "the datasets it was pooled from; the same bundles ingested by two teams are in both their "
                     "datasets): pooling would count them twice; give each response's dataset once: leave out "
                     "the datasets a pooled dataset already holds", code="POOL-006")


def check(datasets: list[Path]) -> dict:
    """Check that ``datasets`` can be pooled (see the module docstring);
    return every survey definition by hash."""
    surveys: dict = {}
    origin: dict[str, Path] = {}  # survey hash -> the first dataset given that holds it
    given: set[Path] = set()
    for d in datasets:
        if d.resolve() in given:
            raise PoolError(f"{str(d)!r} is given twice; give each dataset once", code="POOL-006")
        given.add(d.resolve())
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
        for h in own:
            origin.setdefault(h, d)
    # Where each definition is: "mehm 1.0.0 in 'team-a/dataset' (LILLE, LYON)",
    # so the message says which team changed what.
    by_version: dict[tuple[str, str], dict[str, dict[str, set[str]]]] = {}
    items: dict[tuple[str, int, str], dict[tuple, dict[str, set[str]]]] = {}
    for h, s in surveys.items():
        site_lists = set(s.site.choices)
        for m in s.modules:
            by_version.setdefault((m.id, m.version), {}).setdefault(m.hash, {}).setdefault(
                f"in {str(origin[h])!r}", set()).add(s.site.centre)
            for it in m.items:
                if it.is_question and it.choice_list not in site_lists:
                    spec = (it.type, tuple(c.code for c in it.choices), it.minimum, it.maximum)
                    items.setdefault((m.id, m.major, it.id), {}).setdefault(spec, {}).setdefault(
                        f"{m.id} {m.version} in {str(origin[h])!r}", set()).add(s.site.centre)
    clash = [f"{i} {v} (" + "; ".join(f"hash {mh} {_places(w)}" for mh, w in sorted(hs.items())) + ")"
             for (i, v), hs in sorted(by_version.items()) if len(hs) > 1]
    if clash:
        raise PoolError(f"module(s) {', '.join(clash)} have different texts under the same version in these "
                        "datasets; one version must mean one text: the site that changed it must give it a new "
                        "version", code="POOL-003")
    differ = [f"{m}@{major}.{i} (" + "; ".join(f"{_spec_text(spec)}: {_places(w)}"
                                                for spec, w in sorted(specs.items(), key=lambda kv: sorted(kv[1])))
              + ")" for (m, major, i), specs in sorted(items.items()) if len(specs) > 1]
    if differ:
        raise PoolError(f"item(s) {', '.join(differ)} have different types or answer codes within one major "
                        "version: their answers cannot be pooled; give the changed module a new major version",
                        code="POOL-004")
    seen: dict[Path, tuple[set[bytes], set[int]]] = {}
    for d in datasets:
        ids, rids = _ids(d), _rids(d)
        for other, (other_ids, other_rids) in seen.items():
            shared = max(len(ids & other_ids), len(rids & other_rids))
            if shared:
                raise _overlap(d, other, shared)
        seen[d] = (ids, rids)
    return surveys


def _keep_ids(target: Path, datasets: list[Path]) -> None:
    """Write the hashed envelope ids of every pooled response (POOLED_IDS)."""
    db = sqlite3.connect(target / POOLED_IDS)
    try:
        db.execute("CREATE TABLE ingested (id_hash BLOB PRIMARY KEY) WITHOUT ROWID")
        with db:
            for d in datasets:
                db.executemany("INSERT OR IGNORE INTO ingested (id_hash) VALUES (?)", ((i,) for i in _ids(d)))
    finally:
        db.close()


def _keep_releases(target: Path, datasets: list[Path]) -> None:
    """Copy the sources' release records, each naming its dataset (a pooled
    source's own inherited records keep theirs)."""
    lines = []
    for d in datasets:
        for entry in history(d):
            entry.setdefault("dataset", str(d.resolve()))
            lines.append(json.dumps(entry, sort_keys=True) + "\n")
            # And the groups each release published (rids kept by the pool):
            # a region's group a few people larger than a team's is withheld.
            name = entry.get("groups")
            if name and (d / GROUPS_DIR / str(name)).exists():
                (target / GROUPS_DIR).mkdir(exist_ok=True)
                shutil.copyfile(d / GROUPS_DIR / str(name), target / GROUPS_DIR / str(name))
    if lines:
        (target / LEDGER).write_text("".join(lines), encoding="utf-8")


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
    _keep_ids(tmp, paths)
    _keep_releases(tmp, paths)
    (tmp / FEDERATION_FILE).write_text(json.dumps({"kind": "health-kiosk-federation", "version": 1,
                                                   "sources": [str(p.resolve()) for p in paths]}, indent=1) + "\n",
                                       encoding="utf-8")
    tmp.replace(target)
    return scan_responses(target).select("rid").collect().height
