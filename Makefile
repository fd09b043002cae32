# Two commands for a fresh Debian machine with python3, git and make:
#   make demo   start the kiosk on the embedded demo (http://127.0.0.1:8501)
#   make test   run the whole test suite (installs chromium for browser tests)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-fast typecheck check bench screenshots i18n-extract i18n-update clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	VENV=$(VENV) sh scripts/bootstrap.sh
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kiosk demo

test: $(STAMP)
	sh scripts/ensure-chromium.sh
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow"

# mypy, configured in pyproject.toml: strict on surveycore, defaults on kiosk and analysis.
typecheck: $(STAMP)
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/kiosk check questionnaires
	$(BIN)/kiosk i18n check

bench: $(STAMP)
	$(BIN)/python -m bench

# Every screen of the full survey in every offered language, 1280x800 and
# 800x1280, with the real-browser checks: test-artifacts/screens/<lang>/.
screenshots: $(STAMP)
	sh scripts/ensure-chromium.sh
	rm -rf test-artifacts/screens
	KIOSK_SCREENSHOTS=test-artifacts/screens $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/e2e/test_browser_patient.py -k every_screen

i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k _t:2 --no-location --sort-output \
	  --project=health-kiosk --copyright-holder="health-kiosk contributors" -o locales/messages.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) demo .pytest_cache
