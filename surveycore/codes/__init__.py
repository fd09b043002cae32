"""The registry of every error code a user of the kiosk or the analysis can meet.

Each code has one entry (in the style of pyxform's ``ErrorCode``): the code,
a short title of what went wrong (the message template, ``…`` standing for
the value the real message names), the fix a user should apply, and its
anchor in ``docs/errors.md``. An error itself carries the code and a
contextual message (which file, which line, which value); the registry
supplies the fix when that message does not already say how to fix it, and
the anchor, so that a message is rendered in one place
(``KioskError.user_text``).

This module is plain data plus lookups: it imports nothing of the kiosk or
the analysis. ``tests/surveycore/test_error_codes.py`` fails when a code raised in the
sources is missing here, when a code here is raised nowhere, and when
``docs/errors.md`` differs from :func:`render_markdown`.
"""

from __future__ import annotations

import re

from surveycore.codes import analysis, kiosk, questionnaires
from surveycore.codes.model import DOC, ErrorCode

__all__ = ["DOC", "ErrorCode", "FAMILIES", "REGISTRY", "lookup", "render", "render_markdown", "says_how_to_fix"]

# Families in the order docs/errors.md presents them: (prefix, heading, scope).
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("SYS", "Any command", "the last line of defence of both command lines"),
    ("E", "Generic", "an error without a more precise code"),
    ("CFG", "Site configuration and command-line options", "`kiosk.toml`, receipts given to `kiosk confirm`, "
     "options of `kiosk` and `analysis`"),
    ("TLS", "TLS certificates", "`kiosk make-cert`"),
    ("PIN", "Staff PIN", "`kiosk set-pin` and the staff area"),
    ("KEY", "Keys", "team keys, device keys, passphrases, trusted devices"),
    ("S", "Sealing and the kiosk's outbox", "sealing a response, storing it, exporting and confirming bundles"),
    ("REC", "Recordings", "questions read aloud, recorded in the staff area"),
    ("Q", "Questionnaire validation (summary)", "the code a failed validation carries when it has no error of its own"),
    ("Q-FILE", "Questionnaire files", "reading a module or survey file"),
    ("Q-YAML", "Questionnaire YAML", "the YAML of a module or survey file"),
    ("Q-MOD", "Modules", "the top level of a module file"),
    ("Q-VER", "Versions", "a changed definition under an unchanged version"),
    ("Q-LANG", "Module languages", "the `languages` block and the languages a site offers"),
    ("Q-PROV", "Translation provenance", "publisher, title, year and licence of a translation"),
    ("Q-REV", "Translation review", "the review records of a module's texts"),
    ("Q-TXT", "Texts", "per-language text maps"),
    ("Q-MEDIA", "Images and audio", "media files a module names"),
    ("Q-ITEM", "Items", "the items of a module"),
    ("Q-CHO", "Choice lists", "choices and their codes"),
    ("Q-INT", "Integer items", "ranges of integer items"),
    ("Q-CON", "Constraints", "`constraint` and `constraint_message`"),
    ("Q-EXP", "Expressions", "`relevant` and `constraint` expressions"),
    ("Q-REF", "References", "names an expression or an item refers to"),
    ("Q-PRIV", "Privacy rules", "identifying questions and free text"),
    ("Q-SCO", "Scores", "scores, bands and cut-offs of a module"),
    ("Q-SUR", "Surveys", "the top level of a survey file"),
    ("Q-SITE", "Site settings", "a survey's `site` block"),
    ("X-FILE", "XLSForm files", "`kiosk import-xlsform`: the workbook"),
    ("X-SHEET", "XLSForm sheets", "the survey, choices and settings sheets"),
    ("X-COL", "XLSForm columns", "columns of the survey sheet"),
    ("X-ROW", "XLSForm rows", "rows of the survey sheet"),
    ("X-TYPE", "XLSForm types", "question types"),
    ("X-NAME", "XLSForm names", "question names"),
    ("X-GRP", "XLSForm groups", "groups and repeats"),
    ("X-CHO", "XLSForm choices", "the choices sheet"),
    ("X-INT", "XLSForm integers", "integer questions"),
    ("X-CALC", "XLSForm calculations", "calculated fields"),
    ("X-TXT", "XLSForm texts", "labels and hints"),
    ("X-LANG", "XLSForm languages", "language columns"),
    ("X-LIC", "XLSForm licences", "the form's licence"),
    ("X-SET", "XLSForm settings", "the settings sheet"),
    ("I18N", "Interface catalogs", "`kiosk i18n check`: the catalogs of the kiosk's own texts in `locales/`"),
    ("TR", "Translations", "`kiosk i18n export/import/check` and the interface catalogs"),
    ("ENV", "Envelopes", "opening and verifying one sealed response"),
    ("BND", "Bundles", "reading a bundle file"),
    ("ING", "Ingest", "`analysis ingest`: validating responses and writing the dataset"),
    ("POOL", "Pooling", "`analysis pool`"),
    ("DSC", "Disclosure control", "the gate every released figure goes through"),
    ("REL", "Releases", "the ledger of published releases"),
    ("RPT", "Report", "`analysis report`"),
    ("EXP", "Export", "`analysis export`"),
    ("DSH", "Dashboard", "`analysis dashboard`"),
)


_ENTRIES: tuple[ErrorCode, ...] = kiosk.ENTRIES + questionnaires.ENTRIES + analysis.ENTRIES

REGISTRY: dict[str, ErrorCode] = {e.code: e for e in _ENTRIES}
"""Every registered code, by code."""

_FIX_WORDS = ("give ", "use ", "run ", "add ", "remove ", "choose ", "check ", "install ", "export ", "ingest ",
              "write ", "set ", "copy ", "free ", "update ", "restore ", "rename ", "start ", "wait ", "type ",
              "move ", "replace ", "name ", "fix ", "save ", "correct ", "keep ", "delete ", "bump ", "raise ",
              "lower ", "record ", "list ", "see ", "did you mean", "try ", "ask ", "trust ", "get ", "confirm ",
              "report ", "pass ", "change ", "translate ", "split ", "flatten ", "let ", "put ", "simplify",
              "refer ", "close ", "define ", "quote ", "create ", "review ", "open the ")

# A clause that starts with one of these words says what to do.
_FIX_START = re.compile(r"(?:please )?(?:" + "|".join(re.escape(w.strip()) for w in _FIX_WORDS) + r")\b")
# Verbs that say what to do wherever they stand ("on the team's machine run …",
# "never copy …"); words such as "write", "export" or "remove" also describe
# what failed ("could not remove …"), so they count only at a clause's start.
_FIX_ANYWHERE = re.compile(r"\b(?:run|give|use|install|copy|choose|never|check|update|restore|rename|replace|"
                           r"correct|bump|translate|simplify|ask|wait|did you mean)\b")


def lookup(code: str) -> ErrorCode | None:
    """The registry entry of ``code``, or None when it is not registered."""
    return REGISTRY.get(code)


def says_how_to_fix(message: str) -> bool:
    """Whether ``message`` already tells the user what to do.

    The project's messages say what went wrong, then the fix as a clause of
    its own ("… not found; run 'kiosk demo' …", "--k 0: give …"): a clause
    that begins with an action word counts as a fix, so the registry's is
    not repeated. "cannot write …" begins with no action and gets the fix.
    """
    text = message.lower()
    clauses = re.split(r"[;:,(]|\bor\b", text)
    return any(_FIX_START.match(clause.strip()) for clause in clauses) or _FIX_ANYWHERE.search(text) is not None


def render(code: str, message: str) -> str:
    """``[CODE] message`` plus the registry's fix when the message lacks one, and the anchor.

    The one place a coded error becomes text for a staff member or an
    analyst (never a patient). An unregistered code renders without a fix
    or an anchor rather than failing: the test that scans the sources keeps
    that from shipping.
    """
    entry = REGISTRY.get(code)
    text = f"[{code}] {message}"
    if entry is None:
        return text
    if not says_how_to_fix(message):
        text += f"; {entry.fix}"
    return f"{text} (see {entry.anchor})"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def render_markdown() -> str:
    """The text of docs/errors.md, generated from the registry."""
    out = ["# Error codes", "",
           "Every error the kiosk and the analysis report carries a stable code. On the command line it reads",
           "`error: [CODE] message (see docs/errors.md#code)`; the message says where the problem is and, when",
           "it can, how to fix it; otherwise the fix below is added to it. Questionnaire checks print one line",
           "per problem: `file:line: error [CODE] item 'x': message`. Exit statuses: 1 for a refused request",
           "(`analysis ingest`: 3 when something was quarantined; `kiosk status`: 3 and 4, see the README).",
           "",
           "This page is generated from `surveycore/codes/` (`python -m surveycore.codes > docs/errors.md`);",
           "a test fails when the two differ.", ""]
    for prefix, heading, scope in FAMILIES:
        entries = [e for e in _ENTRIES if e.family == prefix]
        if not entries:
            continue
        out += [f"## {heading} ({prefix})", "", f"When: {scope}.", "", "| code | what went wrong | fix |",
                "|---|---|---|"]
        for e in entries:
            title = _cell(e.title) + ("" if e.reachable else f" *(not reachable from any input: {_cell(e.reason)})*")
            out.append(f'| <a id="{e.code.lower()}"></a>`{e.code}` | {title} | {_cell(e.fix)} |')
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
