"""The patient's way through a survey, as a pure state machine.

The Streamlit pages only render the current screen and call these methods;
everything that decides what comes next (skip logic, constraints, required
items, Back, prefer-not-to-answer, what is sealed) lives here and is tested
without a browser. Messages are English msgids that the page translates.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from surveycore import logic, types
from surveycore.questionnaire import Item, Survey
from surveycore.response import PREFER_NOT, answer_fits, response_body


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


MSG_REQUIRED = N_("Please choose an answer, or tap “Prefer not to answer”.")
MSG_CHOICE = N_("This answer is not one of the choices.")
MSG_RANGE = N_("Please enter a number between {minimum} and {maximum}.")
MSG_CONSTRAINT = N_("This answer does not fit. Please check it.")


@dataclass
class Respondent:
    """One patient's answers, held in server memory only, never on disk."""

    survey: Survey
    lang: str
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[int] = field(default_factory=list)
    pos: int | None = None
    submitted: bool = False

    def __post_init__(self) -> None:
        self._items: list[Item] = self.survey.items
        self._cache: tuple[Any, list[bool]] | None = None
        self.pos = self._next_relevant(-1)
        # The furthest screen reached: items beyond it were never seen, so
        # the logic skipping them is not recorded as "skipped".
        self.furthest: int = -1 if self.pos is None else self.pos

    # ------------------------------------------------------------ navigation
    def relevance(self) -> list[bool]:
        """Whether each item is shown given the answers, in one pass.

        An item made irrelevant by a later change masks its own (kept in
        memory, not sealed) answer, so a branch below it is judged as if it
        had never been answered: only answers on a branch that is no longer
        taken are left out of what is sealed."""
        state = _snapshot(self.answers)
        if self._cache is not None and self._cache[0] == state:
            return self._cache[1]
        masked: set[str] = set()
        out: list[bool] = []
        for item in self._items:
            if not item.relevant:
                out.append(True)
                continue

            def lookup(name: str, item: Item = item) -> Any:
                key = name if "." in name else f"{item.module}.{name}"
                value = None if key in masked else self.answers.get(key)
                return None if value is PREFER_NOT else value
            shown = logic.truthy(logic.evaluate(logic.parse(item.relevant), lookup))
            if not shown:
                masked.add(item.key)
            out.append(shown)
        self._cache = (state, out)
        return out

    def _lookup(self, item: Item):
        relevance = self.relevance()
        hidden = {it.key for it, shown in zip(self._items, relevance) if not shown}

        def lookup(name: str) -> Any:
            key = name if "." in name else f"{item.module}.{name}"
            value = None if key in hidden else self.answers.get(key)
            return None if value is PREFER_NOT else value
        return lookup

    def relevant(self, index: int) -> bool:
        """Whether the item at ``index`` is shown given earlier answers."""
        return self.relevance()[index]

    def _next_relevant(self, after: int) -> int | None:
        relevance = self.relevance()
        for i in range(after + 1, len(self._items)):
            if relevance[i]:
                return i
        return None

    @property
    def current(self) -> Item | None:
        """The item on screen, or ``None`` when the survey is finished."""
        return None if self.pos is None else self._items[self.pos]

    @property
    def finished(self) -> bool:
        """True when every relevant item has been passed."""
        return self.pos is None

    def progress(self) -> tuple[int, int]:
        """(screens done, screens in total). The total counts the screens
        ahead that are shown given the answers so far, and those whose
        showing still depends on a question not answered yet: so it only
        ever goes down (a branch closing) as the patient moves on, never
        up by surprise when a follow-up question opens."""
        done = len(self.history)
        ahead = 0
        if self.pos is not None:
            relevance = self.relevance()
            index = {it.key: i for i, it in enumerate(self._items)}
            for i in range(self.pos, len(self._items)):
                item = self._items[i]
                if relevance[i]:
                    ahead += 1
                    continue
                assert item.relevant is not None  # only its relevant expression hides an item
                for name in logic.references(logic.parse(item.relevant)):
                    key = name if "." in name else f"{item.module}.{name}"
                    if index.get(key, -1) >= self.pos and key not in self.answers:
                        ahead += 1  # still open: decided by a later answer
                        break
        return done, done + ahead

    def _advance(self) -> None:
        assert self.pos is not None
        self.history.append(self.pos)
        self.pos = self._next_relevant(self.pos)
        if self.pos is not None:
            self.furthest = max(self.furthest, self.pos)
        else:
            self.furthest = len(self._items) - 1

    def back(self) -> bool:
        """Go to the previous screen; False when already at the first one."""
        if not self.history:
            return False
        self.pos = self.history.pop()
        return True

    # --------------------------------------------------------------- answers
    def value(self, item: Item | None = None) -> Any:
        """The current answer to an item (``PREFER_NOT`` when refused)."""
        it = item or self.current
        return None if it is None else self.answers.get(it.key)

    def check(self, value: Any) -> tuple[str, dict[str, Any]] | None:
        """Validate ``value`` for the current item: ``None`` when acceptable,
        else (msgid, format arguments)."""
        item = self.current
        assert item is not None
        # Which answer fits an item is the response schema's to say: the
        # analysis refuses a sealed answer by the very same rule.
        if not answer_fits(item.type, value, {c.code for c in item.choices}, item.minimum, item.maximum):
            if types.get(item.type).ranged:
                return MSG_RANGE, {"minimum": item.minimum, "maximum": item.maximum}
            return MSG_CHOICE, {}
        if item.constraint:
            def lookup(name: str) -> Any:
                if name == item.id:
                    return value
                return self._lookup(item)(name)
            if not logic.truthy(logic.evaluate(logic.parse(item.constraint), lookup)):
                message = item.constraint_message.get(self.lang)
                return (message or MSG_CONSTRAINT), {}
        return None

    def answer(self, value: Any) -> tuple[str, dict[str, Any]] | None:
        """Record an answer and move on; return the problem instead when it
        does not fit (nothing is recorded then)."""
        problem = self.check(value)
        if problem is not None:
            return problem
        item = self.current
        assert item is not None
        if types.get(item.type).multi:
            value = sorted(value, key=[c.code for c in item.choices].index)
        self.answers[item.key] = value
        self._advance()
        return None

    def set_pending(self, value: Any) -> None:
        """Record a multiple-choice selection in progress without moving on."""
        item = self.current
        assert item is not None
        self.answers[item.key] = value

    def prefer_not(self) -> None:
        """"Prefer not to answer": always allowed, even on required items."""
        item = self.current
        assert item is not None
        self.answers[item.key] = PREFER_NOT
        self._advance()

    def next(self) -> tuple[str, dict[str, Any]] | None:
        """Move on from a note, a multiple choice, or an unanswered optional
        item; required items need an answer or "prefer not to answer"."""
        item = self.current
        assert item is not None
        value = self.answers.get(item.key)
        if item.is_question:
            if value is None or value == []:
                if item.required:
                    return MSG_REQUIRED, {}
                self.answers.pop(item.key, None)
            elif value is not PREFER_NOT:
                problem = self.check(value)
                if problem is not None:
                    return problem
        self._advance()
        return None

    # --------------------------------------------------------------- sealing
    def sealed_answers(self) -> tuple[dict[str, Any], list[str]]:
        """What a sealed response holds: every answer the patient gave and
        did not change, as codes (``None`` for prefer not to answer), whatever
        navigation happened since (Back, then Stop or an idle timeout keeps
        the answers of the screens after the current one too); and the keys
        skipped by logic on the way to the furthest screen reached. Only
        answers on a branch that a later change made irrelevant are left
        out, as are multiple choices left with nothing ticked."""
        out: dict[str, Any] = {}
        skipped: list[str] = []
        relevance = self.relevance()
        for i, item in enumerate(self._items):
            if not item.is_question:
                continue
            if not relevance[i]:
                if i <= self.furthest:
                    skipped.append(item.key)
                continue
            if item.key not in self.answers:
                continue
            value = self.answers[item.key]
            if value == []:
                continue
            out[item.key] = None if value is PREFER_NOT else value
        return out, skipped

    def keeps_something(self) -> bool:
        """Whether a partial response sealed now would hold any answer (the
        stop screen says so only when it is true)."""
        return bool(self.sealed_answers()[0])

    def body(self, status: str, today: dt.date | None = None, test: bool = False) -> dict[str, Any]:
        """The response body that is signed and sealed (see docs/envelope.md)."""
        answers, skipped = self.sealed_answers() if status != "declined" else ({}, [])
        return response_body(self.survey, self.lang, status, answers, skipped, today, test)


def _snapshot(answers: dict[str, Any]) -> tuple:
    """A comparable copy of the answers (lists become tuples)."""
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in answers.items())


