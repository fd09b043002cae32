"""The release ledger: every public release of a dataset, and the check of a
new release against every earlier one.

The cell key method makes two releases of the same persons identical and
turns the difference of two releases into noise, but a release that adds a
single respondent to an earlier one still invites differencing (the mean of
a score before and after, every table at once). So a new public release
(report or aggregated export) is refused when the responses it covers
differ from those of an earlier release by 1 to ``k - 1``: either the same
responses (the same figures come out again) or at least ``k`` more.

The same holds for the groups a release publishes (each category of each
breakdown: a centre, a neighbourhood, an age band, a period): a report
restricted with ``--where`` that leaves a handful of persons out of a group
published earlier, or two groups of two breakdowns that differ by a handful
(a centre and its main neighbourhood, a neighbourhood and the answer "no
fixed address" used as a breakdown), publish the same cells for everyone
but that handful: the cells that differ are theirs. So every group of at
least ``k - 2`` responses (a smaller one is never published as a group: its
perturbed total would read ``< k``) is compared, by its exact responses, with
the groups of the same release and those published by every earlier
release (:func:`check_groups`): such a group is withheld as a whole (its
column of every cross-tab, the reader told why); when it is the whole
release (a ``--where``), the release is refused (``REL-003``).

The ledger is ``DATA/releases.jsonl``, one JSON object per release: date
(day only), kind (``report`` / ``export``), format, output file name, ``k``,
the number of responses covered and a fingerprint of them (BLAKE2b of
their sorted rids, which are themselves never published); and
``DATA/releases/<id>.parquet``, the rids of the release with the category
of each breakdown (analyst side only, like the dataset itself). A pooled
dataset's ledger starts with its sources' releases, each with the
``dataset`` it was made from (``analysis pool`` keeps the rids, so the
fingerprints and the groups still apply).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from surveycore.errors import KioskError

from analysis.ingest import scan_responses

LEDGER = "releases.jsonl"
GROUPS_DIR = "releases"
"""Folder of ``DATA`` holding the groups of each release (one Parquet file each)."""

MAX_NOISE = 2
"""The largest noise of the project's p-table: a group whose perturbed total
is published (at least ``k``) holds at least ``k - MAX_NOISE`` responses."""

POPULATION = "(all)"
"""Name of the group of every response a release covers."""


class ReleaseError(KioskError):
    """A public release that would give persons away, or an unreadable ledger."""

    code = "REL-001"


@dataclass(frozen=True)
class Coverage:
    """The responses a release covers: how many, and their fingerprint;
    ``groups`` (when known): the rid and the category of every breakdown
    of each covered response, recorded with the release."""

    responses: int
    fingerprint: str
    groups: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    withheld: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)


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


def release_groups(data_dir: str | Path, questionnaire_dirs: list[str | Path],
                   breakdowns: Mapping[str, str], period: str | None,
                   responses: pl.LazyFrame | None = None) -> pl.DataFrame:
    """The covered non-test responses of a release: ``key`` (the rid) and
    one column per breakdown holding its category as the release names it
    (site lists qualified by centre, periods coarsened to ``period``)."""
    from analysis import pooling, tables
    from analysis.ingest import scan_answers

    everyone = scan_responses(data_dir)
    frame = everyone if responses is None else responses
    answers = scan_answers(data_dir)
    answers = pooling.of_dataset(data_dir, questionnaire_dirs, everyone, answers).relabel(answers, everyone)
    kept = frame.filter(~pl.col("test").fill_null(False))
    key = tables.choose_key(kept)
    units = tables.units(kept, answers, key, breakdowns, period)
    return units.select("key", *breakdowns).collect(engine="streaming")


def _groups(frame: pl.DataFrame, least: int) -> dict[tuple[str, str], pl.Series]:
    """Every group of at least ``least`` responses: the whole (name
    :data:`POPULATION`) and each category of each breakdown, as sorted keys."""
    out = {(POPULATION, ""): frame["key"].sort()} if frame.height >= least else {}
    for by in frame.columns[1:]:
        for (cat,), part in frame.group_by(by):
            if part.height >= least:
                out[(by, str(cat))] = part["key"].sort()
    return out


def _difference(a: pl.Series, b: pl.Series) -> int:
    """How many responses are in one of two groups and not the other."""
    return len(set(a.to_list()).symmetric_difference(b.to_list()))


def _name(group: tuple[str, str]) -> str:
    return POPULATION if group[0] == POPULATION else f"{group[0]}={group[1]}"


def check_groups(data_dir: str | Path, k: int, groups: pl.DataFrame) -> dict[str, dict[str, str]]:
    """The groups of a release to withhold as a whole, each with the group it
    differs from by 1 to ``k - 1`` responses: another group of this release
    (of another breakdown; the smaller of the two is withheld) or a group
    published by an earlier release (see the module docstring).

    Returns ``{breakdown: {category: the other group, named for the reader}}``.

    Raises:
        ReleaseError: ``REL-003`` when the whole of this release is such a
            group (a ``--where`` leaving a handful out of a group published
            earlier): it cannot be withheld, the release is refused.
    """
    least = max(1, k - MAX_NOISE)
    mine = _groups(groups, least)
    earlier: list[tuple[dict[str, object], dict[tuple[str, str], pl.Series]]] = []
    for entry in history(data_dir):
        name = entry.get("groups")
        path = Path(data_dir) / GROUPS_DIR / str(name)
        if name and path.exists():
            # Only what it published: the whole, and the groups with a column of their own.
            published = {(POPULATION, "")} | {(str(by), str(cat)) for by, cat in entry.get("published", [])}  # type: ignore[attr-defined]
            shown = {g: keys for g, keys in _groups(pl.read_parquet(path), least).items() if g in published}
            earlier.append((entry, shown))
    withheld: dict[tuple[str, str], str] = {}

    def close(a: pl.Series, b: pl.Series) -> int:
        """The difference of two groups when it is 1 to k - 1, else 0."""
        if abs(a.len() - b.len()) >= k:
            return 0
        d = _difference(a, b)
        return d if 1 <= d < k else 0

    items = list(mine.items())
    for i, (a, keys_a) in enumerate(items):
        for entry, theirs in earlier:
            for b, keys_b in theirs.items():
                if a in withheld or not (d := close(keys_a, keys_b)):
                    continue
                if a[0] == POPULATION:
                    raise ReleaseError(
                        f"this release covers {keys_a.len()} responses, {d} response(s) away from the group "
                        f"{_name(b)} published by the {entry['kind']} of {entry['date']} ({entry.get('file', '')}): "
                        f"comparing the two shows what those respondents answered (every other person is counted "
                        f"alike in both, so gets the same figures). Choose another --where (a whole centre or "
                        f"neighbourhood), or wait until at least {k} responses differ.", code="REL-003")
                withheld[a] = f"{_name(b)} ({entry['kind']} {entry['date']}, {entry.get('file', '')})"
        for b, keys_b in items[i + 1:]:
            if a[0] in (b[0], POPULATION) or b[0] == POPULATION or a in withheld or b in withheld:
                continue  # one breakdown's own groups are disjoint; the whole is their sum
            if close(keys_a, keys_b):
                small, big = (a, b) if keys_a.len() <= keys_b.len() else (b, a)
                withheld[small] = _name(big)
    out: dict[str, dict[str, str]] = {}
    for (by, cat), partner in withheld.items():
        out.setdefault(by, {})[cat] = partner
    return out


def check(data_dir: str | Path, k: int, responses: pl.LazyFrame | None = None,
          groups: pl.DataFrame | None = None) -> Coverage:
    """Refuse a release whose responses differ from an earlier release's by
    1 to ``k - 1``; with ``groups`` (:func:`release_groups`), find the groups
    to withhold (:func:`check_groups`).

    Returns the coverage of the new release (for :func:`record`), with the
    groups to withhold in ``withheld``.

    Raises:
        ReleaseError: ``REL-001`` with the earlier release and how many more
            responses are needed; ``REL-003`` when the whole release is a
            handful away from a group published earlier; ``REL-002`` if the
            ledger is unreadable.
    """
    now = coverage(data_dir, responses)
    if now.responses < k:
        # The whole release is one group: below k it gets no figure of its
        # own, as a small group of a cross-tab (its "< k" cells would each
        # say that one of so few persons gave that answer).
        raise ReleaseError(
            f"this release would cover {now.responses} response(s): fewer than {k}, too few persons for any "
            f"figure of their own. Publish a wider group (a whole centre or neighbourhood, fewer --where), or "
            f"wait until it holds at least {k} responses.", code="REL-004")
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
    if groups is not None:
        now = Coverage(now.responses, now.fingerprint, groups, check_groups(data_dir, k, groups))
    return now


def published_groups(views: Iterable[Any]) -> set[tuple[str, str]]:
    """The groups a release published: every category with a column of its
    own (a published, not withheld, total) in one of its cross-tabs."""
    out: set[tuple[str, str]] = set()
    for v in views:
        if v.by is None:
            continue
        for cat, f in v.col_totals.items():
            if f.n is not None and not f.withheld:
                out.add((str(v.by), str(cat)))
    return out


def record(data_dir: str | Path, kind: str, fmt: str, out: str | Path, k: int, covered: Coverage,
           published: set[tuple[str, str]] | None = None) -> None:
    """Append a release to the ledger (after its files are written), with
    the groups it ``published`` (:func:`published_groups`)."""
    entry: dict[str, object] = {"date": dt.date.today().isoformat(), "kind": kind, "format": fmt,
                                "file": Path(out).name, "k": k, "responses": covered.responses,
                                "fingerprint": covered.fingerprint}
    if covered.groups is not None:
        folder = Path(data_dir) / GROUPS_DIR
        folder.mkdir(exist_ok=True)
        name = f"{uuid.uuid4().hex}.parquet"
        covered.groups.write_parquet(folder / name)
        entry["groups"] = name
        entry["withheld"] = sorted([by, cat] for by, cats in covered.withheld.items() for cat in cats)
        entry["published"] = sorted([by, cat] for by, cat in (published or set()))
    with open(Path(data_dir) / LEDGER, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")
