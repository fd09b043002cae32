"""Fixtures every test folder shares, registered here from tests/support/."""

from tests.support.kiosks import kiosk_dir, team  # noqa: F401 (fixtures)
