"""The definitions an ingest checks envelopes against: the questionnaire
modules on disk, the surveys a bundle carries (as the kiosk ran them) and
the dataset's own record of them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from surveycore.definitions import load_record, parse_block
from surveycore.errors import KioskError, ValidationError
from surveycore.keys import fingerprint
from surveycore.questionnaire import Module, Survey, file_kind_of, load_module, load_survey
from analysis.envelopes import Catalogue, ModuleSpec


# Loaded definitions, by file signature: parsing YAML and loading surveys is
# the slowest fixed cost of an ingest, and the files rarely change.
_MODULE_CACHE: dict[tuple[str, int, int], Module | None] = {}


_SURVEY_CACHE: dict[tuple, dict[str, dict[tuple[str, str], ModuleSpec]]] = {}


def _signature(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _load_module_cached(path: Path) -> Module | None:
    key = _signature(path)
    if key not in _MODULE_CACHE:
        try:
            _MODULE_CACHE[key] = load_module(path)
        except ValidationError:
            _MODULE_CACHE[key] = None  # surveys and broken files are reported by 'kiosk check'
    return _MODULE_CACHE[key]


def module_index(dirs: Iterable[str | Path]) -> dict[tuple[str, str], Module]:
    """Every valid module found in ``dirs``, by (id, version)."""
    out: dict[tuple[str, str], Module] = {}
    for d in dirs:
        for f in sorted(Path(d).glob("*.yaml")):
            m = _load_module_cached(f)
            if m is not None:
                out.setdefault((m.id, m.version), m)
    return out


def _bundle_definitions(block: bytes, name: str, trusted: list[Any] | None
                        ) -> tuple[dict[str, Survey], dict[str, tuple[dict, dict[str, bytes]]]]:
    """The surveys a bundle carries, verified: each giving the content hashes
    its manifest names (BND-010 … BND-012). Definitions signed by a device
    that is not trusted are not used (its envelopes are refused, ENV-023)."""
    defs = parse_block(block, name)
    if trusted is not None and defs.device not in {bytes(d) for d in trusted if isinstance(d, (bytes, bytearray))} \
            and fingerprint(defs.device) not in {d for d in trusted if isinstance(d, str)}:
        return {}, {}
    surveys = defs.surveys()
    files = {m["hash"]: (m, {r["file"]: defs.files[r["file"]] for r in [m, *m["modules"]]})
             for m in defs.manifests}
    return surveys, files


def with_surveys(catalogue: Catalogue, surveys: dict[str, Survey]) -> Catalogue:
    """``catalogue`` with the surveys bundles carried: their modules, site
    lists applied, become the definitions for envelopes naming their hash
    (they take precedence over any folder: they are what was asked)."""
    per_survey = dict(catalogue.surveys)
    by_hash = dict(catalogue.by_hash)
    for h, survey in surveys.items():
        specs = {(m.id, m.version): ModuleSpec.of(m) for m in survey.modules}
        per_survey[h] = specs
        for spec in specs.values():
            by_hash.setdefault((spec.id, spec.version, spec.hash), spec)
    return Catalogue(catalogue.modules, per_survey, by_hash)


def cross_check(surveys: dict[str, Survey], catalogue: Catalogue) -> list[str]:
    """Where the questionnaire folders given to ingest hold another text
    under the same module id and version than a bundle carried: one note
    each (the bundle's definition, the one the patients saw, is used)."""
    notes = []
    ran = {(m.id, m.version, m.hash) for survey in surveys.values() for m in survey.modules}
    for m_id, version, local_hash in sorted(catalogue.by_hash):
        for _, _, kiosk_hash in sorted(x for x in ran if x[:2] == (m_id, version) and x[2] != local_hash):
            notes.append(f"cross-check: module {m_id} {version} in the questionnaire folders (hash "
                         f"{local_hash}) differs from the one the kiosk ran (hash {kiosk_hash}); the kiosk's "
                         "definition, carried by the bundle, was used")
    return notes


def keep_definitions(data: Path, carried: dict[str, tuple[dict, dict[str, bytes]]]) -> None:
    """Keep every survey definition ingested, by hash, in the dataset
    (``DATA/definitions/``): the file bytes by SHA-256, and one manifest per
    survey hash. Content-addressed, so writing them again changes nothing."""
    root = data / "definitions"
    (root / "files").mkdir(parents=True, exist_ok=True)
    (root / "surveys").mkdir(exist_ok=True)
    for survey_hash, (manifest, files) in carried.items():
        for sha, blob in files.items():
            target = root / "files" / f"{sha}.yaml"
            if not target.exists():
                _atomic_write(target, blob)
        target = root / "surveys" / f"{survey_hash}.json"
        if not target.exists():
            _atomic_write(target, (json.dumps(manifest, sort_keys=True, indent=1) + "\n").encode("utf-8"))


def _atomic_write(path: Path, blob: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def dataset_surveys(data_dir: str | Path) -> dict[str, Survey]:
    """Every survey definition the dataset keeps, loaded from its own bytes,
    by survey hash (see :func:`keep_definitions`)."""
    root = Path(data_dir) / "definitions"
    out: dict[str, Survey] = {}
    for f in sorted((root / "surveys").glob("*.json")):
        # Content-addressed files never change: each survey is loaded once
        # per process (the dashboard rebuilds its figures at every filter).
        key = (str(f.resolve()), f.stem)
        if key not in _DEFINITION_CACHE:
            manifest = json.loads(f.read_text(encoding="utf-8"))
            files = {r["file"]: (root / "files" / f"{r['file']}.yaml").read_bytes()
                     for r in [manifest, *manifest["modules"]]}
            _DEFINITION_CACHE[key] = load_record(manifest, files)
        out[_DEFINITION_CACHE[key].hash] = _DEFINITION_CACHE[key]
    return out


_DEFINITION_CACHE: dict[tuple[str, str], Survey] = {}


def catalogue_of(dirs: Iterable[str | Path]) -> Catalogue:
    """Module definitions for validation: every module of ``dirs``, and for
    every survey there whose site supplies choice lists (neighbourhoods),
    its modules with those lists, keyed by the survey's hash."""
    dirs = [Path(d) for d in dirs]
    modules = {k: ModuleSpec.of(m) for k, m in module_index(dirs).items()}
    surveys: dict[str, dict[tuple[str, str], ModuleSpec]] = {}
    by_hash: dict[tuple[str, str, str], ModuleSpec] = {}
    files = [f for d in dirs for f in sorted(Path(d).glob("*.yaml"))]
    for f in files:
        m = _load_module_cached(f)
        if m is not None:
            # Two folders may hold different definitions of one version.
            by_hash.setdefault((m.id, m.version, m.hash), ModuleSpec.of(m))
            continue
        if file_kind_of(f) != "survey":
            continue  # a module that does not load: 'kiosk check' reports it
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "choices" not in text:
            continue  # no site lists: the module files alone validate its responses
        # The survey loader reads the survey's own folder as well.
        key = (_signature(f), tuple(_signature(x) for x in files + sorted(f.parent.glob("*.yaml"))))
        if key not in _SURVEY_CACHE:
            try:
                s = load_survey(f, dirs)
                _SURVEY_CACHE[key] = {s.hash: {(m.id, m.version): ModuleSpec.of(m) for m in s.modules}}
            except (ValidationError, KioskError):
                _SURVEY_CACHE[key] = {}
        for h, specs in _SURVEY_CACHE[key].items():
            surveys.setdefault(h, specs)
    return Catalogue(modules, surveys, by_hash)
