"""Reading questionnaire files: bounded YAML reading (size, nodes, depth,
duplicate keys), line numbers for messages, content hashes, and telling a
survey from a module file.
"""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.parser import Parser
from ruamel.yaml.scanner import Scanner

from surveycore.errors import ProblemList


def _yaml(full: bool = False) -> YAML:
    """ruamel's round-trip reader (its mappings know the line of each key,
    for messages); without the gathering of comments unless ``full``."""
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    if not full:
        # The round-trip scanner and parser also gather every comment, to
        # write them back; nothing here writes or reads comments. With the
        # plain scanner and parser the round-trip constructor builds the
        # same values, of the same types, with the same line numbers (a test
        # compares them on every questionnaire file and on generated YAML),
        # in about two thirds of the time: reading the definitions is the
        # slowest fixed cost of the dashboard's first page, of a report and
        # of an ingest.
        y.Scanner = Scanner
        y.Parser = Parser
    return y


def _line_of(node: Any, key: Any = None) -> int | None:
    """1-based line of a mapping key (or of the node) in the source file."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is not None:
            return int(lc.key(key)[0]) + 1
        return int(lc.line) + 1
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return None


class _TooLarge(Exception):
    """A definition expands beyond what any questionnaire needs."""


# Enough for hundreds of items in dozens of languages; far beyond that, the
# file is a mistake or YAML aliases that expand exponentially.
_MAX_NODES = 200_000


def _plain(node: Any, budget: list[int] | None = None) -> Any:
    """ruamel round-trip objects to plain Python (for hashing)."""
    if budget is None:
        budget = [_MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, dict):
        return {str(k): _plain(v, budget) for k, v in node.items()}
    if isinstance(node, (list, tuple, set, frozenset)):
        return [_plain(v, budget) for v in node]
    return node


def content_hash(data: Any) -> str:
    """SHA-256 (hex, first 16 chars) of the canonical JSON of a definition:
    comments and layout do not change it, any wording or code change does."""
    canon = json.dumps(_plain(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                       default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:16]


def _safe_hash(data: Any, problems: ProblemList) -> str:
    try:
        return content_hash(data)
    except (_TooLarge, RecursionError, ValueError):
        problems.add("Q-YAML-003", "the definition is too large or uses YAML aliases that refer to "
                                   "themselves or expand too far; write the content out without '&' "
                                   "anchors and '*' aliases")
        return ""


# Parsed documents by the SHA-256 of their text. ruamel's round-trip parser
# (needed for line numbers) is slow, and the same file is read by every survey
# that pins it and again by `kiosk check`. The cached objects are shared:
# nothing in this module mutates what it reads.
_PARSED: dict[str, Any] = {}
_PARSED_MAX = 256


# The largest shipped module is a few KiB; a megabyte holds hundreds of items
# in dozens of languages. A larger file is a mistake (or an attack) and would
# keep the parser busy for minutes: it is refused before parsing.
MAX_FILE_BYTES = 2 << 20


def _count_nodes(node: Any, budget: list[int]) -> None:
    """Walk the tree as every later step will, aliases expanded, and stop
    with :class:`_TooLarge` past the budget: a few shared lists nested in
    each other (an alias bomb) stand for billions of nodes."""
    stack = [node]
    while stack:
        item = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooLarge
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _parse_yaml_text(text: str, problems: ProblemList) -> Any:
    """Read YAML text; add a coded problem and return None when unreadable,
    too large, or expanding (through aliases) beyond any questionnaire."""
    if len(text) > MAX_FILE_BYTES:
        problems.add("Q-FILE-004", f"the file has {len(text):,} characters; a questionnaire file has at most "
                                   f"{MAX_FILE_BYTES:,}: split it into modules")
        return None
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if key in _PARSED:
        return _PARSED[key]
    try:
        try:
            data = _yaml().load(text)
        except Exception:  # noqa: BLE001 - read again: the full reader says why, as it always did
            # The full reader scans further ahead (for comments) and may
            # name another first problem, at another line: its message is
            # the one users know.
            data = _yaml(full=True).load(text)
        _count_nodes(data, [_MAX_NODES])
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = data
        return data
    except DuplicateKeyError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.add("Q-YAML-002", f"a key appears twice in the same mapping "
                                   f"({str(getattr(exc, 'problem', '') or '').strip()}); keep only one",
                     line=line)
        return None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["?"])[0]
        problems.add("Q-YAML-001", f"not valid YAML: {problem}; fix the indentation or quoting",
                     line=line)
        return None
    except RecursionError:
        problems.add("Q-YAML-003", "the file is nested too deeply to be a questionnaire")
        return None
    except _TooLarge:
        problems.add("Q-YAML-003", f"the definition expands to more than {_MAX_NODES:,} values (YAML '&' "
                                   "anchors and '*' aliases that refer to each other?); write the content "
                                   "out without anchors and aliases")
        return None
    except Exception as exc:  # ruamel raises a few non-YAMLError types on odd input
        problems.add("Q-YAML-001", f"not valid YAML: {exc.__class__.__name__}; fix the indentation "
                                   "or quoting")
        return None


def read_text_bounded(path: Path) -> str:
    """A questionnaire file's text, reading at most one character past
    :data:`MAX_FILE_BYTES` (so a huge file or ``/dev/zero`` is refused
    without being read whole). Raises OSError and UnicodeDecodeError."""
    if path.exists() and not path.is_file() and not path.is_dir():
        # A FIFO or a device would block or never end: refuse it unopened.
        raise OSError(errno.EINVAL, "not a regular file")
    with open(path, "rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1).decode("utf-8")


def file_kind(data: Any) -> str:
    """``"survey"`` for a parsed questionnaire file that is a survey (it pins
    ``modules`` or holds ``site`` settings), else ``"module"``: the one rule
    every tool uses to tell the two kinds of file apart."""
    return "survey" if isinstance(data, Mapping) and ("modules" in data or "site" in data) else "module"


def file_kind_of(path: str | Path) -> str:
    """:func:`file_kind` of a file on disk; ``"module"`` when it cannot be
    read or parsed (the module loader then reports why, with its code)."""
    try:
        data = _parse_yaml_text(read_text_bounded(Path(path)), ProblemList())
    except (OSError, UnicodeDecodeError):
        return "module"
    return file_kind(data)


def _read_yaml(path: Path, problems: ProblemList) -> Any:
    try:
        text = read_text_bounded(path)
    except FileNotFoundError:
        problems.add("Q-FILE-001", f"file not found; check the path {str(path)!r}")
        return None
    except UnicodeDecodeError:
        problems.add("Q-FILE-002", "file is not UTF-8 text; save it as UTF-8")
        return None
    except PermissionError:
        problems.add("Q-FILE-005", f"the file exists but cannot be read (permission denied); let the "
                                   f"kiosk's user read {str(path)!r}")
        return None
    except IsADirectoryError:
        problems.add("Q-FILE-005", f"{str(path)!r} is a folder, not a questionnaire file")
        return None
    except OSError as exc:
        problems.add("Q-FILE-005", f"the file exists but cannot be read ({exc.strerror or exc.__class__.__name__}); "
                                   f"check {str(path)!r}")
        return None
    return _parse_yaml_text(text, problems)
