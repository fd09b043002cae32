"""Codes of the kiosk's site commands and of the report that no other test
reaches, each with its exact text and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from analysis import report
from analysis.report import ReportError, write_report
from kiosk import cli as kiosk_cli
from kiosk.config import CONFIG_ENV, config_path_from_env, load_config
from surveycore.errors import ConfigError
from tests.support.datasets import d1


def see(code: str) -> str:
    return f" (see docs/errors.md#{code.lower()})"


def test_a_site_config_without_its_survey_path(kiosk_dir: Path) -> None:
    text = kiosk_dir.read_text()
    assert 'survey = "survey/demo_survey.yaml"\n' in text
    kiosk_dir.write_text(text.replace('survey = "survey/demo_survey.yaml"\n', ""))
    with pytest.raises(ConfigError) as info:
        load_config(kiosk_dir)
    assert info.value.user_text() == f"[CFG-004] {str(kiosk_dir)!r}: [kiosk] survey is missing; give a path" + see(
        "CFG-004")


def test_the_kiosk_app_without_its_configuration(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    with pytest.raises(ConfigError) as info:
        config_path_from_env()
    assert info.value.user_text() == (f"[CFG-005] {CONFIG_ENV} is not set; start the kiosk with 'kiosk serve' or "
                                      "'kiosk demo'" + see("CFG-005"))


def test_set_pin_refuses_two_different_pins(kiosk_dir: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pin_file = load_config(kiosk_dir).pin_file
    typed = iter(["135790", "135791"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert kiosk_cli.main(["set-pin", "--config", str(kiosk_dir)]) == 1
    assert capsys.readouterr().err == ("error: [PIN-002] the two PINs differ; type the same PIN twice"
                                       + see("PIN-002") + "\n")
    assert not pin_file.exists()


def test_install_service_into_a_missing_folder(kiosk_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "no-such-folder" / "health-kiosk.service"
    assert kiosk_cli.main(["install-service", "--config", str(kiosk_dir), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (f"error: [CFG-053] cannot write {str(out)!r}: No such file or directory; "
                                       "choose an --out path in a folder you can write, or run as a user who may "
                                       "write there" + see("CFG-053") + "\n")
    assert not out.parent.exists()


def test_a_period_the_report_does_not_know(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    with pytest.raises(ReportError) as info:
        write_report(data, tmp_path / "r.html", [qdir], period="fortnight")
    assert info.value.user_text() == ("[RPT-004] --period 'fortnight': use one of week, month, quarter, year"
                                      + see("RPT-004"))
    assert not (tmp_path / "r.html").exists()


def test_pdf_without_chromium_is_refused_before_any_work(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)
    monkeypatch.setattr(report, "find_browser", lambda: None)
    out = tmp_path / "r.html"
    assert analysis_cli.main(["report", "--data", str(data), "--out", str(out), "--questionnaires", str(qdir),
                              "--pdf", str(tmp_path / "r.pdf")]) == 1
    assert capsys.readouterr().err == (
        "error: [RPT-010] --pdf needs Chromium (Debian: apt install chromium), and none was found; write the HTML "
        "report without --pdf, open it in a browser and print it to PDF (A4, no headers and footers): its print "
        "stylesheet lays it out for paper" + see("RPT-010") + "\n")
    assert not out.exists() and not (data / "releases.jsonl").exists()


def test_install_service_refuses_a_path_systemd_cannot_quote(tmp_path: Path, team, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.support.kiosks import make_kiosk
    config = make_kiosk(tmp_path / 'say "hi"', team)
    out = tmp_path / "health-kiosk.service"
    assert kiosk_cli.main(["install-service", "--config", str(config), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: [CFG-050] path ") and err.endswith(
        " holds a quote, a backslash or a line break; move the kiosk to a plainer path" + see("CFG-050") + "\n")
    assert 'say "hi"' in err and not out.exists()


def test_install_service_without_the_kiosk_command(kiosk_dir: Path, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                                   monkeypatch) -> None:
    monkeypatch.setattr("sys.executable", str(tmp_path / "elsewhere" / "python"))
    monkeypatch.setattr("shutil.which", lambda name: None)
    out = tmp_path / "health-kiosk.service"
    assert kiosk_cli.main(["install-service", "--config", str(kiosk_dir), "--out", str(out)]) == 1
    assert capsys.readouterr().err == ("error: [CFG-051] cannot find the 'kiosk' command of this installation; "
                                       "run install-service with .venv/bin/kiosk" + see("CFG-051") + "\n")
    assert not out.exists()


def test_a_browser_that_cannot_print_the_pdf(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)
    monkeypatch.setattr(report, "find_browser", lambda: "/bin/false")
    out, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    assert analysis_cli.main(["report", "--data", str(data), "--out", str(out), "--questionnaires", str(qdir),
                              "--pdf", str(pdf)]) == 1
    assert capsys.readouterr().err == (
        f"error: [RPT-011] /bin/false could not print {out} to PDF: ; open the HTML file in a browser and print it "
        "(A4, no headers and footers)" + see("RPT-011") + "\n")
    assert out.exists() and not pdf.exists()  # the HTML report stays: it can be printed by hand
