"""Self-describing bundles: a bundle carries, signed, the exact survey and
module files its envelopes were answered with; ingest uses them, so a site's
own lists (neighbourhoods) never need the site's survey file on the team's
machine; the dataset keeps every definition by hash; a kiosk refuses to run a
changed definition under an unchanged version."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import polars as pl
import pytest

from surveycore.bundle import bundle_bytes, read_bundle, write_bundle
from surveycore.definitions import parse_block
from surveycore.errors import ConfigError
from surveycore.questionnaire import load_survey
from analysis import cli as analysis_cli
from analysis.export import export
from analysis.ingest import dataset_surveys, ingest, scan_answers, scan_responses
from kiosk.simulate import simulate
from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.keys import create_device_key, load_device_key
from tests.support.paths import REPO
from tests.support.kiosks import TeamKeys, make_kiosk
from tests.support.surveys import SAINT_DENIS, site_survey

QUESTIONNAIRES = REPO / "questionnaires"



@pytest.mark.slow
def test_a_site_survey_bundle_ingests_without_the_site_file(tmp_path: Path, team: TeamKeys) -> None:
    survey = site_survey(tmp_path / "site", "SAINT-DENIS", "saint_denis", SAINT_DENIS)
    device = tmp_path / "device" / "device.key"
    create_device_key(device)
    bundle = tmp_path / "sd.hkb"
    counts = simulate(200, survey, team.dir / "team.pub", device, bundle, seed=5, module_dirs=[QUESTIONNAIRES])
    # The team has only the shipped questionnaires, not the site's survey file.
    data = tmp_path / "data"
    result = ingest([bundle], team.keys, data, [QUESTIONNAIRES])
    assert (result.ingested, result.quarantined) == (200, [])
    assert sum(counts[s] for s in ("complete", "partial", "declined")) == 200
    answers = scan_answers(data).collect().filter(pl.col("item") == "neighbourhood", pl.col("state") == "answered")
    assert set(answers["value"].cast(pl.String)) == {"floreal", "franc_moisin", "elsewhere"}
    # The dataset keeps the definition each response was given with, by hash.
    loaded = load_survey(survey, [QUESTIONNAIRES])
    assert set(scan_responses(data).collect()["survey_hash"]) == {loaded.hash}
    kept = dataset_surveys(data)
    assert list(kept) == [loaded.hash]
    places = kept[loaded.hash].module("demographics").item("neighbourhood").choices
    assert [(c.code, c.label["fr"]) for c in places] == SAINT_DENIS
    manifest = json.loads((data / "definitions" / "surveys" / f"{loaded.hash}.json").read_text())
    assert (data / "definitions" / "files" / f"{manifest['file']}.yaml").read_bytes() == survey.read_bytes()


def test_an_old_bundle_without_definitions_needs_the_site_survey(tmp_path: Path, team: TeamKeys) -> None:
    survey = site_survey(tmp_path / "site", "SAINT-DENIS", "saint_denis", SAINT_DENIS)
    device = tmp_path / "device" / "device.key"
    create_device_key(device)
    bundle = tmp_path / "new.hkb"
    simulate(60, survey, team.dir / "team.pub", device, bundle, seed=2, module_dirs=[QUESTIONNAIRES])
    old = tmp_path / "old.hkb"
    write_bundle(old, read_bundle(bundle).envelopes)  # version 1: no definitions
    assert read_bundle(old).version == 1
    without = ingest([old], team.keys, tmp_path / "without", [QUESTIONNAIRES])
    assert without.quarantined and all("[ING-007]" in r and "neighbourhood" in r for _, _, r in without.quarantined)
    with_site = ingest([old], team.keys, tmp_path / "with", [QUESTIONNAIRES, survey.parent])
    assert (with_site.ingested, with_site.quarantined) == (60, [])


def rename_place(block: bytes) -> bytes:
    """The definitions block with Floréal renamed in the survey file, the
    original signature kept."""
    (n,) = struct.unpack(">I", block[:4])
    doc = json.loads(block[4:4 + n])
    sha = doc["surveys"][0]["file"]
    text = base64.b64decode(doc["files"][sha]).replace("Floréal".encode(), "Florexl".encode())
    doc["files"][sha] = base64.b64encode(text).decode()
    new = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return struct.pack(">I", len(new)) + new + block[4 + n:]


def _tampered(bundle: Path, edit) -> bytes:  # type: ignore[no-untyped-def]
    b = read_bundle(bundle)
    return bundle_bytes(b.envelopes, edit(b.definitions))


def test_definitions_are_covered_by_the_device_signature(tmp_path: Path, team: TeamKeys) -> None:
    survey = site_survey(tmp_path / "site", "SAINT-DENIS", "saint_denis", SAINT_DENIS)
    device = tmp_path / "device" / "device.key"
    create_device_key(device)
    bundle = tmp_path / "sd.hkb"
    simulate(5, survey, team.dir / "team.pub", device, bundle, seed=1, module_dirs=[QUESTIONNAIRES])
    block = read_bundle(bundle).definitions
    defs = parse_block(block, "sd.hkb")
    assert defs.device == load_device_key(device).public_key().public_bytes_raw()
    # Floréal renamed on the way, the checksum recomputed: the signature fails.
    altered = tmp_path / "altered.hkb"
    altered.write_bytes(_tampered(bundle, rename_place))
    result = ingest([altered], team.keys, tmp_path / "data", [QUESTIONNAIRES])
    assert result.ingested == 0
    assert result.quarantined == [("altered.hkb", -1, "[BND-011] bundle 'altered.hkb': its questionnaire definitions "
                                   "are not signed by the kiosk's device key (altered on the way); export it again "
                                   "from the kiosk: nothing was removed there")]
    # A block signed by the device but whose files do not give the hashes it names.
    doc = json.loads(defs_doc(block))
    doc["surveys"][0]["hash"] = "0" * 16
    from kiosk.definitions import sign
    forged = sign(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode(), load_device_key(device))
    other = tmp_path / "forged.hkb"
    other.write_bytes(bundle_bytes(read_bundle(bundle).envelopes, forged))
    result = ingest([other], team.keys, tmp_path / "data2", [QUESTIONNAIRES])
    assert [r[2][:10] for r in result.quarantined] == ["[BND-012] "]


def defs_doc(block: bytes) -> bytes:
    (n,) = struct.unpack(">I", block[:4])
    return block[4:4 + n]


def test_kiosk_export_carries_every_survey_the_kiosk_ran(tmp_path: Path, team: TeamKeys) -> None:
    config = make_kiosk(tmp_path / "kiosk", team)
    rt = KioskRuntime(load_config(config))
    first_hash = rt.survey.hash
    from kiosk.flow import Respondent
    r = Respondent(rt.survey, "fr")
    r.answer("1")
    rt.submit(r)
    rt.outbox.close()
    # The site changes its survey (a new version) before the next export.
    survey_file = config.parent / "survey" / "demo_survey.yaml"
    survey_file.write_text(survey_file.read_text().replace("version: 1.0.0", "version: 1.1.0", 1)
                           .replace("idle_timeout: 90", "idle_timeout: 120"))
    rt = KioskRuntime(load_config(config))
    second_hash = rt.survey.hash
    rt.submit(Respondent(rt.survey, "en"), status="partial")
    rt.outbox.close()
    out = tmp_path / "week.hkb"
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(out)]) == 0
    bundle = read_bundle(out)
    assert bundle.version == 2
    defs = parse_block(bundle.definitions)
    assert sorted(m["hash"] for m in defs.manifests) == sorted([first_hash, second_hash])
    assert set(defs.surveys()) == {first_hash, second_hash}
    # Byte for byte: the current survey file and the module file.
    assert survey_file.read_bytes() in defs.files.values()
    assert (config.parent / "survey" / "mehm.yaml").read_bytes() in defs.files.values()
    device_pub = config.parent / "device" / "device.pub"
    data = tmp_path / "data"
    assert analysis_cli.main(["trust", str(device_pub), "--data", str(data)]) == 0
    result = ingest([out], team.keys, data, [], trusted_devices=[defs.device])
    assert (result.ingested, result.quarantined) == (2, [])
    assert set(scan_responses(data).collect()["survey_version"]) == {"1.0.0", "1.1.0"}


def test_a_changed_definition_with_an_unchanged_version_is_refused(tmp_path: Path, team: TeamKeys,
                                                                  capsys) -> None:  # type: ignore[no-untyped-def]
    config = make_kiosk(tmp_path / "kiosk", team)
    rt = KioskRuntime(load_config(config))
    old = rt.survey.hash
    rt.outbox.close()
    survey_file = config.parent / "survey" / "demo_survey.yaml"
    survey_file.write_text(survey_file.read_text().replace("idle_timeout: 90", "idle_timeout: 120"))
    new = load_survey(survey_file).hash
    message = (f"survey 'demo' version 1.0.0 ({survey_file}) differs from the one this kiosk already ran (hash "
               f"{old}, now {new}): its site settings, site lists or the modules it pins changed; give it a new "
               "version (version: \"1.1.0\")")
    with pytest.raises(ConfigError) as exc:
        KioskRuntime(load_config(config))
    assert exc.value.code == "Q-VER-001"
    assert exc.value.message == message + "; 'kiosk check kiosk.toml' lists every such change"
    assert kiosk_cli.main(["serve", "--config", str(config)]) == 1
    assert kiosk_cli.main(["check", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"{survey_file}: error [Q-VER-001] {message}" in out
    # A module edited in place: named, with the version to give it.
    mehm = config.parent / "survey" / "mehm.yaml"
    survey_file.write_text(survey_file.read_text().replace("idle_timeout: 120", "idle_timeout: 90"))
    mehm.write_text(mehm.read_text().replace("version: 1.0.0", "version: 1.0.0\n# edited", 1)
                    .replace("Very good", "Very well", 1))
    with pytest.raises(ConfigError) as exc:
        KioskRuntime(load_config(config))
    assert f"module 'mehm' version 1.0.0 ({mehm}) differs from the one this kiosk already ran" in exc.value.message
    assert "give it a new version (for example version: \"1.1.0\") and pin that version in the survey" \
        in exc.value.message
    # Bumped as told: the kiosk starts.
    mehm.write_text(mehm.read_text().replace("version: 1.0.0", "version: 1.1.0", 1))
    survey_file.write_text(survey_file.read_text().replace("version: 1.0.0", "version: 1.1.0", 1)
                           .replace("{id: mehm, version: 1.0.0}", "{id: mehm, version: 1.1.0}"))
    KioskRuntime(load_config(config)).outbox.close()


def test_simulate_from_the_project_root_with_a_relative_survey_path(tmp_path: Path, team: TeamKeys, monkeypatch,
                                                                   capsys) -> None:  # type: ignore[no-untyped-def]
    # The same module file reached as questionnaires/x.yaml and as its
    # absolute path is one definition, not two (Q-SUR-009).
    device = tmp_path / "device.key"
    create_device_key(device)
    monkeypatch.chdir(REPO)
    assert kiosk_cli.main(["simulate", "--n", "3", "--survey", "questionnaires/full_survey.yaml", "--pub",
                           str(team.dir / "team.pub"), "--device-key", str(device), "--out",
                           str(tmp_path / "b.hkb"), "--questionnaires", "questionnaires"]) == 0
    assert capsys.readouterr().out.startswith("3 synthetic responses sealed into")


def test_exports_say_which_definitions_were_pooled(tmp_path: Path, team: TeamKeys) -> None:
    data = tmp_path / "data"
    for name, centre in (("a", "CENTRE-A"), ("b", "CENTRE-B")):
        text = (QUESTIONNAIRES / "demo_survey.yaml").read_text().replace("centre: DEMO", f"centre: {centre}")
        (tmp_path / name).mkdir()
        (tmp_path / name / "survey.yaml").write_text(text)
        create_device_key(tmp_path / name / "device.key")
        simulate(15, tmp_path / name / "survey.yaml", team.dir / "team.pub", tmp_path / name / "device.key",
                 tmp_path / f"{name}.hkb", seed=1, module_dirs=[QUESTIONNAIRES])
    result = ingest([tmp_path / "a.hkb", tmp_path / "b.hkb"], team.keys, data, [])
    assert (result.ingested, result.quarantined) == (30, [])
    files = export(data, "csv", tmp_path / "csv", [QUESTIONNAIRES])
    assert tmp_path / "csv" / "definitions.csv" in files
    pooled = pl.read_csv((tmp_path / "csv" / "definitions.csv").read_bytes()[3:])
    mehm = load_survey(QUESTIONNAIRES / "demo_survey.yaml").module("mehm")
    assert pooled.rows() == [("mehm", 1, "1.0.0", mehm.hash, "CENTRE-A, CENTRE-B")]


def test_questionnaire_folders_are_only_a_cross_check(tmp_path: Path, team: TeamKeys, capsys) -> None:  # type: ignore[no-untyped-def]
    device = tmp_path / "device" / "device.key"
    create_device_key(device)
    bundle = tmp_path / "b.hkb"
    simulate(12, QUESTIONNAIRES / "demo_survey.yaml", team.dir / "team.pub", device, bundle, seed=3)
    # The team's copy of mehm was edited without a new version.
    local = tmp_path / "team-questionnaires"
    local.mkdir()
    (local / "mehm.yaml").write_text((QUESTIONNAIRES / "mehm.yaml").read_text().replace("Very good", "Very well", 1))
    edited = load_survey(QUESTIONNAIRES / "demo_survey.yaml", []).module("mehm").hash
    from surveycore.questionnaire import load_module
    theirs = load_module(local / "mehm.yaml").hash
    data = tmp_path / "data"
    result = ingest([bundle], team.keys, data, [local], trusted_devices=None)
    assert (result.ingested, result.quarantined) == (12, [])
    assert result.notes == [f"cross-check: module mehm 1.0.0 in the questionnaire folders (hash {theirs}) differs "
                            f"from the one the kiosk ran (hash {edited}); the kiosk's definition, carried by the "
                            "bundle, was used"]


def test_ingest_with_a_relative_questionnaire_folder_uses_the_site_lists(tmp_path: Path, team: TeamKeys,
                                                                        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A version 1 bundle of full_survey.yaml (its own neighbourhoods), ingested
    # from the project root with --questionnaires questionnaires: the folder
    # is also reached by its absolute path, and must count once.
    device = tmp_path / "device.key"
    create_device_key(device)
    simulate(40, QUESTIONNAIRES / "full_survey.yaml", team.dir / "team.pub", device, tmp_path / "new.hkb", seed=8,
             module_dirs=[QUESTIONNAIRES])
    old = tmp_path / "old.hkb"
    write_bundle(old, read_bundle(tmp_path / "new.hkb").envelopes)
    monkeypatch.chdir(REPO)
    result = ingest([old], team.keys, tmp_path / "data", [QUESTIONNAIRES, Path("questionnaires")])
    assert (result.ingested, result.quarantined) == (40, [])
