"""Where the shipped questionnaires and interface catalogs are.

They live once, at the project's root (``questionnaires/``, ``locales/``),
where the README tells users to edit them and pass their paths. A wheel
(``pip install .``) carries a copy of both as package data under
``surveycore/_shipped/``: ``setup.py`` copies them there at build time, so the
source tree holds no second copy. In a source checkout (an editable install,
the tests) the root folders are used; in an installed wheel, the embedded ones.
The fonts are the kiosk's own package data (``kiosk/static/``)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# The project root when running from a source checkout.
SOURCE_ROOT = PACKAGE.parent
# Where a built wheel keeps the copies (see setup.py).
EMBEDDED = PACKAGE / "_shipped"
# The root folders copied into the wheel, by name.
SHIPPED_FOLDERS = ("questionnaires", "locales")


def shipped(name: str) -> Path:
    """The shipped folder ``name`` (one of :data:`SHIPPED_FOLDERS`): the
    project root's in a source checkout, else the copy inside the package."""
    if name not in SHIPPED_FOLDERS:
        raise ValueError(f"not a shipped folder: {name!r}")
    checkout = SOURCE_ROOT / name
    # pyproject.toml beside it tells a checkout from a site-packages folder
    # that happens to hold a folder of the same name.
    if (SOURCE_ROOT / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return EMBEDDED / name


def questionnaires_dir() -> Path:
    """The shipped questionnaire modules and surveys."""
    return shipped("questionnaires")


def locales_dir() -> Path:
    """The shipped interface catalogs (gettext ``.po`` files and the template)."""
    return shipped("locales")
