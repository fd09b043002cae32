"""The team key pair (made once per run), fresh kiosk folders (device key,
survey, config, empty outbox) and where a kiosk's receipts are written."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from surveycore.keys import device_raw, load_public_key
from surveycore.response import max_body_size
from analysis.keys import TeamPrivateKey, keygen, load_private_key
from kiosk.cli import QUESTIONNAIRES, _demo_toml
from kiosk.config import KioskRuntime
from kiosk.flow import Respondent
from kiosk.keys import create_device_key, load_device_key
from kiosk.sealing import seal

PASSPHRASE = b"test passphrase 123"


@dataclass
class TeamKeys:
    """The team key pair used by the tests."""

    dir: Path
    private: TeamPrivateKey

    @property
    def keys(self) -> dict[bytes, TeamPrivateKey]:
        return {self.private.public.key_id: self.private}


@pytest.fixture(scope="session")
def team(tmp_path_factory: pytest.TempPathFactory) -> TeamKeys:
    d = tmp_path_factory.mktemp("team")
    # A cheaper scrypt cost keeps the suite fast; the default is tested once.
    keygen(d, PASSPHRASE, n=2 ** 12)
    return TeamKeys(d, load_private_key(d / "team.key", PASSPHRASE))


def make_kiosk(folder: Path, team: TeamKeys, survey: str = "demo_survey.yaml",
               modules: tuple[str, ...] = ("mehm.yaml",)) -> Path:
    """A kiosk folder like the demo one; returns the kiosk.toml path."""
    (folder / "team").mkdir(parents=True)
    shutil.copy(team.dir / "team.pub", folder / "team" / "team.pub")
    create_device_key(folder / "device" / "device.key")
    (folder / "survey").mkdir()
    shutil.copy(QUESTIONNAIRES / survey, folder / "survey" / "demo_survey.yaml")
    for m in modules:
        shutil.copy(QUESTIONNAIRES / m, folder / "survey" / m)
    cfg = folder / "kiosk.toml"
    cfg.write_text(_demo_toml(), encoding="utf-8")
    return cfg


def inline_kiosk(folder: Path, team: TeamKeys, survey: str, modules: dict[str, str]) -> Path:
    """A kiosk folder running a survey given as YAML text, with modules given
    as ``{file name: YAML text}``; returns the kiosk.toml path."""
    (folder / "team").mkdir(parents=True)
    shutil.copy(team.dir / "team.pub", folder / "team" / "team.pub")
    create_device_key(folder / "device" / "device.key")
    (folder / "survey").mkdir()
    (folder / "survey" / "demo_survey.yaml").write_text(survey, encoding="utf-8")
    for name, text in modules.items():
        (folder / "survey" / name).write_text(text, encoding="utf-8")
    cfg = folder / "kiosk.toml"
    cfg.write_text(_demo_toml(), encoding="utf-8")
    return cfg


def full_survey_kiosk(folder: Path, team: TeamKeys, survey: str | None = None) -> Path:
    """A kiosk folder running the shipped full survey (or ``survey``, a
    variant of it as YAML text) with every shipped module beside it;
    returns the kiosk.toml path."""
    text = survey if survey is not None else (QUESTIONNAIRES / "full_survey.yaml").read_text("utf-8")
    cfg = inline_kiosk(folder, team, text, {})
    for f in QUESTIONNAIRES.glob("*.yaml"):
        if "survey" not in f.name:
            shutil.copy(f, cfg.parent / "survey" / f.name)
    return cfg


@pytest.fixture
def kiosk_dir(tmp_path: Path, team: TeamKeys) -> Path:
    """Path of a fresh kiosk.toml."""
    return make_kiosk(tmp_path / "kiosk", team)


def kiosk_device(config: Path) -> bytes:
    """The raw device public key of the kiosk configured by ``config``."""
    from kiosk.config import load_config
    return device_raw(load_device_key(load_config(config).device_key).public_key())


def receipt_of(data: Path, config: Path, run: int) -> Path:
    """Where ``analysis ingest`` writes run ``run``'s receipt for this kiosk."""
    from analysis.receipts import receipt_name
    return data / "receipts" / receipt_name(kiosk_device(config), run)


def answered(rt: KioskRuntime, codes: tuple[str, ...] = ("1", "2", "3")) -> Respondent:
    r = Respondent(rt.survey, "fr")
    for code in codes:
        r.answer(code)
    return r


def seal_body(survey, body: dict, team, device) -> bytes:
    return seal(body, load_public_key(team.dir / "team.pub"), device, max_body_size(survey))
