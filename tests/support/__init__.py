"""Builders and helpers the tests share, grouped by concept; test files import
from here and never from one another (tests/e2e/test_layout.py enforces it).

- ``paths``: where the repository, the shipped questionnaires and the test
  artifacts are;
- ``kiosks``: the team key pair and fresh kiosk folders (the ``team`` and
  ``kiosk_dir`` fixtures live here and are registered by tests/conftest.py);
- ``surveys``: small inline surveys and site survey files;
- ``datasets``: hand-built Parquet datasets and their releases;
- ``published``: reading published figures (report tables, noisy counts);
- ``driver``: driving the kiosk app in AppTest like a patient;
- ``languages``: what a patient can read on a page, and English leaking into it;
- ``browser``: a real kiosk server and headless chromium;
- ``xlsforms``: XLSForm workbooks built with openpyxl;
- ``media``: recordings as the browser's recorder gives them;
- ``report_print``: the report printed to A4 through chromium;
- ``small_disk``: a kiosk on a 2 MiB filesystem (run as a script).
"""
