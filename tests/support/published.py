"""Reading published figures: the report's HTML tables, and whether a shown
count can be the cell-key-perturbed form of a true count."""

from __future__ import annotations

from html.parser import HTMLParser


class Tables(HTMLParser):
    """Collect each <table data-item> as a list of rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._cur: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._cur = self.tables.setdefault(a.get("data-item", "?"), [])
        elif tag == "tr" and self._cur is not None:
            self._cur.append([])
        elif tag in ("td", "th") and self._cur is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._cur is not None:
            self._cur[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._cur = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def plausible(shown: str, true: int, k: int = 11) -> bool:
    """Whether ``shown`` can be the published form of a true count under the
    cell key method: the count plus a noise of at most 2 (down to 0 from a
    count of at most 4), never 1 or 2, and ``< k`` below ``k``."""
    if shown == f"< {k}":
        return 0 < true < k + 2
    if not shown.isdigit():
        return False
    v = int(shown)
    if 1 <= v < k:
        return False
    return abs(v - true) <= 2 or (v == 0 and true <= 4)
