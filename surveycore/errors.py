"""One exception hierarchy for the whole product.

Every error a user can meet is a :class:`KioskError` carrying a stable code
(registered, with its fix and documented anchor, in :mod:`surveycore.codes`)
and a message that says where the problem is. :meth:`KioskError.user_text`
renders it, in one place, for the command lines (``kiosk.cli.main``,
``analysis.cli.main``, with :func:`surveycore.cli.unexpected` as the last
line of defence) and the staff area; the patient-facing pages turn
errors into a calm translated message in :mod:`kiosk.app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from surveycore import codes


class KioskError(Exception):
    """Base of every expected error. ``code`` is stable and documented."""

    code: str = "E-000"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    def user_text(self) -> str:
        """The text shown to a staff member or analyst (never to a patient):
        ``[CODE] message``, the registry's fix when the message does not say
        how to fix it, and the code's anchor in docs/errors.md."""
        return codes.render(self.code, self.message)


class ConfigError(KioskError):
    """A site configuration or command-line input is wrong."""

    code = "CFG-001"


@dataclass(frozen=True)
class Problem:
    """One validation finding, in the style of pyxform: code, place, fix."""

    code: str
    message: str
    file: str = ""
    line: int | None = None
    item: str | None = None
    severity: str = "error"  # "error" or "warning"

    def render(self) -> str:
        """``file:line: [CODE] item 'x': message`` on one line."""
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        subject = f" item '{self.item}':" if self.item else ""
        return f"{where}: {self.severity} [{self.code}]{subject} {self.message}"


class ValidationError(KioskError):
    """A questionnaire, survey, locale or response failed validation.

    Carries *every* problem found, not just the first one.
    """

    code = "Q-000"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        head = errors[0].code if errors else "Q-000"
        text = "\n".join(p.render() for p in problems)
        super().__init__(text, code=head)


class ExpressionError(KioskError):
    """A skip-logic or constraint expression cannot be parsed or evaluated."""

    code = "Q-EXP-001"


class SealError(KioskError):
    """Sealing or storing a response failed; nothing already stored is harmed."""

    code = "S-001"


class StoreError(KioskError):
    """The outbox cannot be written (disk full, read-only, corrupted)."""

    code = "S-010"


class EnvelopeError(KioskError):
    """An envelope or bundle is malformed, tampered with, or not for us."""

    code = "ENV-001"


class KeyFileError(KioskError):
    """A key file is missing, unreadable, of the wrong kind, or locked."""

    code = "KEY-001"


@dataclass
class ProblemList:
    """Accumulates problems so a validator can report them all at once."""

    file: str = ""
    items: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, *, line: int | None = None,
            item: str | None = None, severity: str = "error", file: str | None = None) -> None:
        """Record one problem."""
        self.items.append(Problem(code, message, file if file is not None else self.file,
                                  line, item, severity))

    @property
    def errors(self) -> list[Problem]:
        """Only the problems of severity ``error``."""
        return [p for p in self.items if p.severity == "error"]

    def raise_if_errors(self) -> None:
        """Raise :class:`ValidationError` when any error was recorded."""
        if self.errors:
            raise ValidationError(self.items)
