"""One registered error code (the registry's data type)."""

from __future__ import annotations

from dataclasses import dataclass

DOC = "docs/errors.md"
"""The page that documents every code, one section per family."""


@dataclass(frozen=True)
class ErrorCode:
    """One registered code: what went wrong, how to fix it, where it is documented.

    ``reachable`` is False for a defensive code no input is known to trigger
    (a class default every raise site overrides, an internal invariant);
    ``reason`` then says why, and the test that scans codes lists them.
    """

    code: str
    title: str
    fix: str
    reachable: bool = True
    reason: str = ""

    @property
    def family(self) -> str:
        """The family prefix: ``Q-REF`` for ``Q-REF-002``, ``CFG`` for ``CFG-030``."""
        return self.code.rsplit("-", 1)[0]

    @property
    def anchor(self) -> str:
        """The documented anchor, e.g. ``docs/errors.md#q-ref-002``."""
        return f"{DOC}#{self.code.lower()}"


def entry(code: str, title: str, fix: str, *, reason: str = "") -> ErrorCode:
    """One entry; a ``reason`` marks a code no input is known to reach."""
    return ErrorCode(code, title, fix, reachable=not reason, reason=reason)
