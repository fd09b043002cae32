"""What the centre offers, said where the staff look: the staff area and
`kiosk status` tell a reviewed (validated) language from a draft no native
speaker has checked yet, on the demo kiosk, which offers all 13 languages."""

from __future__ import annotations

from pathlib import Path

from kiosk import cli
from kiosk.config import load_config
from kiosk.pin import set_pin
from tests.support.driver import click, start

PIN = "246810"
SHIPPED = ["fr", "en", "ar", "fa_AF", "ps", "ti", "uk", "ro", "es", "ru", "bn", "ka", "so"]


def test_the_staff_area_shows_each_offered_language_and_its_state(monkeypatch, kiosk_dir: Path) -> None:
    set_pin(load_config(kiosk_dir).pin_file, PIN)
    at = start(monkeypatch, kiosk_dir)
    click(at, "staff-door")
    at.text_input(key="staff-pin").input(PIN)
    at.button[0].click()
    at.run()
    # The staff area speaks the site's first language, French.
    assert [t.value for t in at.title] == ["Espace équipe"]
    langs = at.table[2].value
    rows = [tuple(r) for r in langs.itertuples(index=False)]
    assert rows[:3] == [
        ("fr", "Français", "validée", "proposée"),
        ("en", "English", "validée", "proposée"),
        ("ar", "العربية", "brouillon (pas encore relu)", "proposée, en traduction brouillon"),
    ]
    assert [r[0] for r in rows] == SHIPPED
    assert {r[2:] for r in rows[2:]} == {("brouillon (pas encore relu)", "proposée, en traduction brouillon")}


def test_kiosk_status_lists_the_languages_and_says_which_are_drafts(kiosk_dir: Path, capsys) -> None:
    assert cli.main(["status", "--config", str(kiosk_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    start_at = out.index("languages:")
    assert out[start_at + 1:start_at + 4] == [
        "  fr     validated  offered",
        "  en     validated  offered",
        "  ar     draft      offered (draft: not reviewed by a native speaker yet)",
    ]
    assert [line.split()[0] for line in out[start_at + 1:]] == SHIPPED
