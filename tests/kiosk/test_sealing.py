"""Envelopes: only the team key opens them, tampering is detected, size
does not depend on the answers, the body holds no time finer than a week."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from surveycore.envelope import HEADER_LEN, period_of
from surveycore.errors import EnvelopeError, KeyFileError
from surveycore.keys import SUITE_X25519, load_public_key
from surveycore.questionnaire import load_survey
from surveycore.response import max_body_size
from analysis.envelopes import open_envelope
from analysis.keys import generate, keygen, load_private_key
from kiosk.flow import Respondent
from kiosk.keys import create_device_key
from kiosk.sealing import seal
from tests.support.kiosks import PASSPHRASE

SURVEY = Path(__file__).resolve().parents[2] / "questionnaires" / "demo_survey.yaml"


@pytest.fixture
def sealed(tmp_path: Path, team):
    survey = load_survey(SURVEY)
    device = create_device_key(tmp_path / "device.key")
    pub = load_public_key(team.dir / "team.pub")
    r = Respondent(survey, "fr")
    for code in ("1", "2", "3"):
        r.answer(code)
    body = r.body("complete", dt.date(2026, 11, 22))
    return body, seal(body, pub, device, max_body_size(survey)), survey, pub, device


def test_round_trip_with_the_team_key(sealed, team) -> None:
    body, env, *_ = sealed
    opened, device = open_envelope(env, team.keys)
    assert opened == body
    assert opened["period"] == "2026-W47"
    assert re.fullmatch(r"[0-9A-F]{4}( [0-9A-F]{4}){4}", device)


def test_cannot_be_opened_with_another_key(sealed) -> None:
    _, env, *_ = sealed
    other, _ = generate()
    # Even when the attacker relabels his key with our key id, HPKE refuses.
    keys = {env[6:14]: other}
    with pytest.raises(EnvelopeError) as exc:
        open_envelope(env, keys)
    assert exc.value.code == "ENV-022"
    assert "cannot open" in exc.value.message


def test_unknown_recipient_key_is_named(sealed) -> None:
    _, env, *_ = sealed
    other, _ = generate()
    with pytest.raises(EnvelopeError) as exc:
        open_envelope(env, {other.public.key_id: other})
    assert exc.value.code == "ENV-020"
    assert env[6:14].hex() in exc.value.message


@pytest.mark.parametrize("offset", [0, 5, 6, 13, HEADER_LEN, HEADER_LEN + 500, -1])
def test_a_flipped_byte_fails_with_a_clear_error(sealed, team, offset: int) -> None:
    _, env, *_ = sealed
    damaged = bytearray(env)
    damaged[offset] ^= 0x01
    with pytest.raises(EnvelopeError) as exc:
        open_envelope(bytes(damaged), team.keys)
    assert exc.value.code in {"ENV-003", "ENV-004", "ENV-005", "ENV-020", "ENV-021", "ENV-022"}
    assert exc.value.user_text().startswith(f"[{exc.value.code}] ")


def test_forged_signature_is_rejected(tmp_path: Path, team) -> None:
    # A response sealed with the public key but signed by an unknown device
    # key is rejected when the trusted-device list is in force.
    survey = load_survey(SURVEY)
    pub = load_public_key(team.dir / "team.pub")
    good = create_device_key(tmp_path / "good.key")
    rogue = create_device_key(tmp_path / "rogue.key")
    r = Respondent(survey, "en")
    env = seal(r.body("declined"), pub, rogue, max_body_size(survey))
    from surveycore.keys import device_id
    with pytest.raises(EnvelopeError) as exc:
        open_envelope(env, team.keys, trusted_devices={device_id(good.public_key())})
    assert exc.value.code == "ENV-023"


def test_size_is_the_same_whatever_the_answers(tmp_path: Path, team) -> None:
    survey = load_survey(SURVEY)
    pub = load_public_key(team.dir / "team.pub")
    device = create_device_key(tmp_path / "d.key")
    pad = max_body_size(survey)
    sizes = set()
    for answers in ([], ["1"], ["5", "1", "3"], [None, None, None]):
        r = Respondent(survey, "fr")
        for a in answers:
            r.prefer_not() if a is None else r.answer(a)
        status = "complete" if r.finished else "partial"
        sizes.add(len(seal(r.body(status), pub, device, pad)))
    sizes.add(len(seal(Respondent(survey, "en").body("declined"), pub, device, pad)))
    assert len(sizes) == 1


def test_period_granularities() -> None:
    day = dt.date(2026, 1, 1)  # ISO week 1 of 2026
    assert period_of(day, "week") == "2026-W01"
    assert period_of(dt.date(2027, 1, 1), "week") == "2026-W53"
    assert period_of(day, "month") == "2026-01"
    assert period_of(dt.date(2026, 11, 22), "quarter") == "2026-Q4"


def test_classic_x25519_suite(tmp_path: Path) -> None:
    keygen(tmp_path, PASSPHRASE, suite=SUITE_X25519, n=2 ** 12)
    priv = load_private_key(tmp_path / "team.key", PASSPHRASE)
    pub = load_public_key(tmp_path / "team.pub")
    device = create_device_key(tmp_path / "d.key")
    survey = load_survey(SURVEY)
    env = seal(Respondent(survey, "en").body("declined"), pub, device)
    assert env[5] == SUITE_X25519
    body, _ = open_envelope(env, {priv.public.key_id: priv})
    assert body["status"] == "declined"


def test_wrong_passphrase_missing_file_and_public_key_given(tmp_path: Path, team) -> None:
    with pytest.raises(KeyFileError) as exc:
        load_private_key(team.dir / "team.key", b"not the passphrase")
    assert exc.value.message == f"wrong passphrase for {str(team.dir / 'team.key')!r} (or the file was altered)"
    with pytest.raises(KeyFileError) as exc:
        load_private_key(tmp_path / "nope.key", PASSPHRASE)
    assert exc.value.code == "KEY-040"
    with pytest.raises(KeyFileError) as exc:
        load_private_key(team.dir / "team.pub", PASSPHRASE)
    assert "this is the public key; give the .key file" in exc.value.message
