"""Interface translations, one gettext object per language, never global.

Catalogs live in ``locales/<lang>/LC_MESSAGES/messages.po`` (source language:
English msgids). They are compiled in memory with babel at first use, so a
fresh checkout needs no build step. Streamlit runs every session in the same
process: we never call ``gettext.install`` or ``setlocale``.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def po_path(lang: str, locales_dir: Path | None = None) -> Path:
    """Where the catalog of ``lang`` lives."""
    return (locales_dir or LOCALES_DIR) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=64)
def _translations_cached(lang: str, locales_dir: str) -> gettext.NullTranslations:
    path = po_path(lang, Path(locales_dir))
    if not path.exists():
        return gettext.NullTranslations()
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translations(lang: str, locales_dir: Path | None = None) -> gettext.NullTranslations:
    """The compiled translations for ``lang`` (English text when absent)."""
    return _translations_cached(lang, str(locales_dir or LOCALES_DIR))


def babel_locale(lang: str) -> Locale:
    """Babel locale of a language code (``fa_AF`` for Dari)."""
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def native_name(lang: str) -> str:
    """The language's name in itself, capitalised where the script has case."""
    loc = babel_locale(lang)
    # CLDR names some regional variants on their own (fa_AF is "دری", Dari),
    # which is what speakers look for; fall back to the language, then the
    # display name.
    name = loc.languages.get(str(loc)) or loc.languages.get(loc.language) or loc.display_name or lang
    return name[:1].upper() + name[1:]


def is_rtl(lang: str) -> bool:
    """Right-to-left according to babel's locale data (not a hand list)."""
    return babel_locale(lang).character_order == "right-to-left"


def direction(lang: str) -> str:
    """``rtl`` or ``ltr`` for the ``dir`` attribute."""
    return "rtl" if is_rtl(lang) else "ltr"


def text_for(texts: dict[str, str], lang: str) -> str:
    """A questionnaire text in ``lang``; the kiosk only offers languages that
    every module has, so a missing text is a bug caught by validation."""
    return texts.get(lang, "")
