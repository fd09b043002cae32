"""Interface translations, one gettext object per language, never global.

Catalogs live in ``locales/<lang>/LC_MESSAGES/messages.po`` (source language:
English msgids, template ``locales/messages.pot`` extracted by ``make
i18n-extract``). They are compiled in memory with babel at first use (and
again when the file changes), so no ``.mo`` file is ever built, shipped or
read. Streamlit runs every session in the same process: we never call
``gettext.install`` or ``setlocale``.

Review convention (see ``docs/translating.md``): an entry whose translation
no native speaker has checked carries the translator comment ``# unreviewed``.
It is still compiled and shown (unlike ``#, fuzzy``, which babel leaves out
of the compiled catalog, so patients would read English); :func:`catalog_stats`
counts them per language and :func:`check_catalogs` is the gate CI runs.
"""

from __future__ import annotations

import gettext
import io
import os
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.messages.catalog import Catalog, Message, TranslationError
from babel.messages.checkers import num_plurals
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal, format_percent as _babel_format_percent

from surveycore import resources
from surveycore.errors import Problem

LOCALES_DIR = resources.locales_dir()
# Lets a site, a test or a translator previewing a new catalog point the kiosk
# at another locales folder without touching the installed one.
LOCALES_ENV = "KIOSK_LOCALES_DIR"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
# Translator comment (``# unreviewed``) marking an entry no native speaker has
# reviewed yet. A comment, not a flag: translator comments survive ``pybabel
# update``, Poedit and Weblate, and never stop an entry from being compiled.
UNREVIEWED = "unreviewed"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


# Shown over the page, in the patient's language, when the browser has lost
# the server (Streamlit's own "Connection error" dialog is hidden).
MSG_CONNECTION_LOST = N_("Please wait a moment. If this message does not go away, please tell the "
                         "reception staff.")
# Shown instead of Streamlit's English text for an unexpected error.
MSG_UNEXPECTED = N_("Sorry, something went wrong. Please tell the reception staff.")


# ------------------------------------------------------------------ catalogs

def locales_dir(override: Path | str | None = None) -> Path:
    """The locales folder: ``override``, else ``$KIOSK_LOCALES_DIR``, else the
    one shipped with the kiosk."""
    if override is not None:
        return Path(override)
    env = os.environ.get(LOCALES_ENV)
    return Path(env) if env else LOCALES_DIR


def po_path(lang: str, locales_dir: Path | str | None = None) -> Path:
    """Where the catalog of ``lang`` lives."""
    return _dir(locales_dir) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def template_path(locales_dir: Path | str | None = None) -> Path:
    """The extracted template ``messages.pot``."""
    return _dir(locales_dir) / f"{DOMAIN}.pot"


def _dir(override: Path | str | None) -> Path:
    return locales_dir(override)


def shipped_languages(locales_dir: Path | str | None = None) -> list[str]:
    """Language codes that have a catalog, sorted."""
    root = _dir(locales_dir)
    if not root.is_dir():
        return []
    return sorted(p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


@lru_cache(maxsize=128)
def _compiled(path: str, mtime_ns: int, size: int, lang: str) -> gettext.NullTranslations:
    # Keyed on the file's mtime and size: an edited catalog is picked up
    # without restarting, and a test's fresh catalog never meets a stale one.
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale=_catalog_locale(lang))
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translations(lang: str, locales_dir: Path | str | None = None) -> gettext.NullTranslations:
    """The compiled translations for ``lang`` (English text when absent).

    Use ``.gettext(msgid)`` and, where a count is shown,
    ``.ngettext(singular, plural, n)``: plural rules come from babel's locale
    data through the catalog's ``Plural-Forms`` header.
    """
    path = po_path(lang, locales_dir)
    try:
        st = path.stat()
    except OSError:
        return gettext.NullTranslations()
    return _compiled(str(path), st.st_mtime_ns, st.st_size, lang)


def _catalog_locale(lang: str) -> str | None:
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return None
    return lang


# ---------------------------------------------------------------- locale data

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
    if script(lang) not in _CASED_SCRIPTS:
        # Georgian has capital letters in Unicode that its readers do not use
        # at the start of a word; Arabic, Ethiopic... have no case at all.
        return name
    return name[:1].upper() + name[1:]


_CASED_SCRIPTS = {"Latn", "Cyrl", "Grek", "Armn"}


def is_rtl(lang: str) -> bool:
    """Right-to-left according to babel's locale data (not a hand list)."""
    return babel_locale(lang).character_order == "right-to-left"


def direction(lang: str) -> str:
    """``rtl`` or ``ltr`` for the ``dir`` attribute."""
    return "rtl" if is_rtl(lang) else "ltr"


def script(lang: str) -> str:
    """ISO 15924 script the language is usually written in (``Arab``,
    ``Ethi``, ``Latn``, ``Cyrl``...), from CLDR's likely subtags: it tells
    which font the page needs (Tigrinya shows empty boxes without an
    Ethiopic font)."""
    loc = babel_locale(lang)
    if loc.script:
        return loc.script
    likely = get_global("likely_subtags")
    for key in (str(loc), loc.language):
        # "ar" -> "ar_Arab_EG": the script is the four-letter subtag (Locale.parse
        # would drop it as the default one).
        for part in str(likely.get(key) or "").split("_")[1:]:
            if len(part) == 4 and part.isalpha():
                return part.title()
    return "Latn"


def format_number(value: int | float, lang: str) -> str:
    """A count or figure written the way ``lang`` writes numbers (grouping
    and decimal signs from babel; Latin digits, as in the report)."""
    return format_decimal(value, locale=babel_locale(lang))


def format_percent(fraction: float, lang: str, decimals: int = 1) -> str:
    """``fraction`` (0.25 for 25 %) as a percentage in ``lang``'s style."""
    loc = babel_locale(lang)
    pattern = loc.percent_formats[None].pattern
    if decimals > 0:
        # The locale's own pattern ("#,##0 %" in French: space before %),
        # with the decimals added after its last integer digit.
        head, sep, tail = pattern.partition(";")
        last = head.rfind("0")
        head = head[:last + 1] + "." + "0" * decimals + head[last + 1:]
        pattern = head + sep + tail
    return _babel_format_percent(fraction, format=pattern, locale=loc, decimal_quantization=True)


def text_for(texts: dict[str, str], lang: str) -> str:
    """A questionnaire text in ``lang``; the kiosk only offers languages that
    every module has, so a missing text is a bug caught by validation."""
    return texts.get(lang, "")


# ------------------------------------------------------------ review status

def is_unreviewed(message: Message) -> bool:
    """True when the entry carries the ``# unreviewed`` translator comment."""
    return any(c.strip() == UNREVIEWED for c in message.user_comments)


def _translated(message: Message) -> bool:
    if isinstance(message.string, (list, tuple)):
        return bool(message.string) and all(s.strip() for s in message.string)
    return bool(message.string and message.string.strip())


@dataclass(frozen=True)
class CatalogStats:
    """Counts of one catalog: entries, translated ones, and how many of
    those no native speaker has reviewed yet."""

    lang: str
    total: int
    translated: int
    unreviewed: int
    fuzzy: int

    @property
    def reviewed(self) -> int:
        """Translated entries without the ``# unreviewed`` comment."""
        return self.translated - self.unreviewed


def _read_catalog(path: Path, lang: str) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=_catalog_locale(lang), abort_invalid=True)


def catalog_stats(lang: str, locales_dir: Path | str | None = None) -> CatalogStats:
    """Entries, translated entries and unreviewed entries of ``lang``'s
    catalog (all zero when there is none)."""
    path = po_path(lang, locales_dir)
    if not path.exists():
        return CatalogStats(lang, 0, 0, 0, 0)
    catalog = _read_catalog(path, lang)
    messages = [m for m in catalog if m.id]
    translated = [m for m in messages if _translated(m) and not m.fuzzy]
    return CatalogStats(
        lang=lang, total=len(messages), translated=len(translated),
        unreviewed=sum(1 for m in translated if is_unreviewed(m)),
        fuzzy=sum(1 for m in messages if m.fuzzy))


def unreviewed_counts(locales_dir: Path | str | None = None) -> dict[str, int]:
    """For every shipped language, how many entries are still unreviewed."""
    return {lang: catalog_stats(lang, locales_dir).unreviewed for lang in shipped_languages(locales_dir)}


# -------------------------------------------------------------------- checks

def format_fields(text: str) -> set[str]:
    """Names of the ``str.format`` fields in ``text`` (``{number}`` gives
    ``number``; ``{}`` gives ``""``). Raises ``ValueError`` when the text is
    not a valid format string (a lone ``{`` or ``}``)."""
    fields = set()
    for _literal, name, _spec, _conv in string.Formatter().parse(text):
        if name is not None:
            # {a.b} and {a[0]} use the argument "a".
            fields.add(name.split(".", 1)[0].split("[", 1)[0])
    return fields


def _shown(msgid: str, limit: int = 70) -> str:
    text = msgid if len(msgid) <= limit else msgid[:limit] + "..."
    return f'msgid "{text}"'


def _placeholder_problems(message: Message, file: str) -> list[Problem]:
    """The msgstr must use exactly the msgid's ``{name}`` fields: a missing one
    loses a number on screen, an unknown one crashes ``.format()``."""
    ids = list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]
    strings = list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]
    try:
        expected: set[str] = set().union(*(format_fields(i) for i in ids))
    except ValueError:
        return []  # the msgid itself is not a format string: nothing formats it
    out = []
    for index, text in enumerate(strings):
        if not text:
            continue
        where = f" (plural form {index})" if len(strings) > 1 else ""
        try:
            found = format_fields(text)
        except ValueError as exc:
            out.append(Problem("I18N-003", f"{_shown(ids[0])}: the translation{where} is not a valid "
                                           f"format string ({exc}); write braces only as {{name}} "
                                           "placeholders", file, message.lineno))
            continue
        # A plural form may leave the count out ("one envelope"), but must not
        # invent a placeholder; a single form must keep every placeholder.
        missing = expected - found if len(ids) == 1 else set()
        unknown = found - expected
        if missing or unknown:
            parts = []
            if missing:
                parts.append("lacks " + ", ".join(f"{{{n}}}" for n in sorted(missing)))
            if unknown:
                parts.append("has unknown " + ", ".join(f"{{{n}}}" for n in sorted(unknown)))
            out.append(Problem("I18N-002", f"{_shown(ids[0])}: placeholders do not match: the "
                                           f"translation{where} {' and '.join(parts)}; keep the "
                                           "msgid's placeholders exactly", file, message.lineno))
    return out


def check_catalog(path: Path | str, template: Catalog | None = None,
                  lang: str | None = None) -> list[Problem]:
    """Every problem of one ``.po`` catalog: does not read or compile,
    placeholders that differ from the msgid, entries of the template missing
    or untranslated, ``fuzzy`` entries (babel would drop them), obsolete
    entries (warnings). ``lang`` defaults to the catalog's folder name; the
    source language may leave entries untranslated (the msgid is the text)."""
    path = Path(path)
    file = str(path)
    lang = lang or path.parent.parent.name
    problems: list[Problem] = []
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        problems.append(Problem("I18N-010", f"babel has no locale {lang!r}, so plural rules, direction and "
                                            "number formats are unknown; use a CLDR code (Dari is fa_AF)",
                                file))
    syntax = _syntax_problem(path)
    if syntax is not None:
        return problems + [syntax]
    try:
        catalog = _read_catalog(path, lang)
    except PoFileError as exc:
        return problems + [Problem("I18N-001", "the catalog does not compile: " + po_error(exc)[0], file,
                                   po_error(exc)[1])]
    except ValueError as exc:  # a header babel cannot read (Plural-Forms: nplurals=INTEGER)
        return problems + [Problem("I18N-001", f"the catalog does not compile: bad header: {exc}", file)]
    except (OSError, UnicodeDecodeError) as exc:
        return problems + [Problem("I18N-001", f"the catalog cannot be read: {exc}", file)]
    try:
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        gettext.GNUTranslations(buf)
    except Exception as exc:  # any failure here means the kiosk could not load it
        problems.append(Problem("I18N-001", f"the catalog does not compile: {exc.__class__.__name__}: {exc}",
                                file))
    header_lang = catalog.locale_identifier
    if header_lang and header_lang != lang:
        problems.append(Problem("I18N-008", f"the header says Language: {header_lang} but the catalog is in "
                                            f"the folder of {lang!r}; fix the header", file, severity="warning"))
    source = lang == SOURCE_LANGUAGE
    for message in catalog:
        if not message.id:
            continue
        for error in _babel_errors(catalog, message):
            problems.append(Problem("I18N-009", f"{_shown(_first(message.id))}: {error}", file, message.lineno))
        problems.extend(_placeholder_problems(message, file))
        if message.fuzzy:
            problems.append(Problem("I18N-006", f"{_shown(_first(message.id))} is marked fuzzy: babel leaves it "
                                                "out when compiling, so patients would read English; check the "
                                                "translation, remove the fuzzy flag and add the comment "
                                                "'# unreviewed' instead", file, message.lineno))
        elif not source and not _translated(message):
            problems.append(Problem("I18N-005", f"{_shown(_first(message.id))} is not translated; translate it "
                                                "(and mark it '# unreviewed' until a native speaker has checked "
                                                "it)", file, message.lineno))
    if template is not None:
        for message in template:
            if message.id and catalog.get(message.id, context=message.context) is None:
                problems.append(Problem("I18N-004", f"{_shown(_first(message.id))} of messages.pot is missing "
                                                    "from the catalog; run 'make i18n-update', then translate it",
                                        file))
        for message in catalog:
            if message.id and template.get(message.id, context=message.context) is None:
                problems.append(Problem("I18N-007", f"{_shown(_first(message.id))} is not in messages.pot any "
                                                    "more; run 'make i18n-update' to drop it", file, message.lineno,
                                        severity="warning"))
    return problems


_PO_LINE = re.compile(r'^(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?"(?:[^"\\]|\\.)*"\s*$')


def _syntax_problem(path: Path) -> Problem | None:
    """The first line that is not PO syntax. babel's reader is lenient: it
    reads ``msgstr "Next`` (no closing quote) as "Nex" without a word, where
    GNU msgfmt refuses the file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None  # reported by the reader with its own message
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#") or _PO_LINE.match(text):
            continue
        return Problem("I18N-001", f"the catalog does not compile: line {number} is not valid PO syntax "
                                   f"({_cut(text)}); check the quotes", str(path), number)
    return None


def po_error(exc: Exception) -> tuple[str, int | None]:
    """Message and 1-based line of a babel ``PoFileError`` (babel puts a
    0-based line at the end of its message)."""
    lineno = getattr(exc, "lineno", None)
    return re.sub(r" on \d+$", "", str(exc)), (lineno + 1 if isinstance(lineno, int) else None)


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _first(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid[0] if isinstance(msgid, (list, tuple)) else msgid


def _babel_errors(catalog: Catalog, message: Message) -> Iterable[str]:
    # Only babel's plural-forms checker: its %-format checker flags texts like
    # "95% confidence" that nothing ever %-formats (the code uses {name}).
    try:
        num_plurals(catalog, message)
    except TranslationError as exc:
        return [str(exc)]
    return []


def check_catalogs(locales_dir: Path | str | None = None) -> list[Problem]:
    """Every problem of every shipped catalog against ``messages.pot``: the
    gate of ``kiosk i18n check`` and of the test suite."""
    root = _dir(locales_dir)
    problems: list[Problem] = []
    template: Catalog | None = None
    pot = template_path(root)
    if pot.exists():
        try:
            with open(pot, "rb") as fh:
                template = read_po(fh, abort_invalid=True)
        except (PoFileError, ValueError) as exc:
            problems.append(Problem("I18N-001", "the template does not read: " + po_error(exc)[0], str(pot),
                                    po_error(exc)[1]))
    else:
        problems.append(Problem("I18N-011", "locales/messages.pot is missing; run 'make i18n-extract'",
                                str(pot)))
    for lang in shipped_languages(root):
        problems.extend(check_catalog(po_path(lang, root), template, lang))
    return problems


# ----------------------------------------------------- Streamlit's own texts

def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for ``content:``), safe inside a
    ``<style>`` element whatever a translation contains."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\A ")
        elif ch == "<" or ord(ch) < 0x20 or ch == "\x7f":
            # "<" so that no translation can close the <style> element.
            out.append(f"\\{ord(ch):X} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def chrome_css(lang: str | None) -> str:
    """CSS for the kiosk pages that hides the English texts Streamlit itself
    can show a patient, and covers the ones that matter with text in the
    patient's language (a neutral hourglass before a language is chosen).

    Found in Streamlit 1.67's frontend bundle and checked in a real browser
    (``tests/e2e/test_i18n_browser.py``):

    - ``stDialog``: Streamlit's own dialogs, "Connection error" (server
      unreachable) and "Page not found" (a URL that is not a page). The kiosk
      uses no ``st.dialog``, so every dialog is one of these. Hiding is not
      enough: an open dialog makes the rest of the page inert, so
      :func:`chrome_script` closes them.
    - ``stApp`` without ``data-test-connection-state="CONNECTED"``: the
      browser lost the server; a full-screen notice asks to wait or tell the
      reception, and goes away by itself when the connection is back.
    - ``stException``: an unexpected error ("This app has encountered an
      error...", in English even with ``showErrorDetails=none``).
    - ``InputInstructions`` ("Press Enter to apply"), the range error icon
      of ``st.number_input`` and its screen-reader text ("Number is outside
      the allowed range..."): the kiosk's own translated message says it
      after Next.
    - ``stSkipToContent`` ("Skip to main content", shown on keyboard focus).
    """
    lost = translations(lang).gettext(MSG_CONNECTION_LOST) if lang else "⏳"
    unexpected = translations(lang).gettext(MSG_UNEXPECTED) if lang else "⏳"
    dir_ = direction(lang) if lang else "ltr"
    return f"""
[data-testid="stDialog"], [data-testid="InputInstructions"], [data-testid="stTooltipErrorHoverTarget"],
[data-testid="stNumberInput"] [role="alert"], [data-testid="stSkipToContent"] {{ display: none !important; }}
[data-testid="stApp"]:not([data-test-connection-state="CONNECTED"])::after {{
  content: {css_string(lost)}; direction: {dir_}; position: fixed; inset: 0; z-index: 1000002;
  display: flex; align-items: center; justify-content: center; padding: 2rem; text-align: center;
  font-size: 1.6rem; line-height: 1.5; background: rgba(255, 255, 255, 0.97); color: #222; }}
[data-testid="stException"] > * {{ display: none !important; }}
[data-testid="stException"]::before {{
  content: {css_string(unexpected)}; direction: {dir_}; display: block; padding: 1rem; font-size: 1.3rem; }}
"""


def chrome_script() -> str:
    """JavaScript (for ``st.html(..., unsafe_allow_javascript=True)``) that
    closes Streamlit's own dialogs as soon as they open: hidden by
    :func:`chrome_css` but still open, they would leave every button of the
    page inert and the tablet stuck (after "Page not found", the welcome
    page has no idle timer to reload it). Installed once per page load."""
    return ("(function(){if(window.__kioskDialogs){return;}window.__kioskDialogs=true;"
            "const close=()=>document.querySelectorAll('[data-testid=\"stDialog\"] button[aria-label=\"Close\"]')"
            ".forEach((b)=>b.click());"
            "new MutationObserver(close).observe(document.body,{childList:true,subtree:true});close();})();")
