"""Printing the report as a reader would: to A4 PDF through headless
Chromium, with screenshots for a reviewer (used by the README network test)."""

from __future__ import annotations

import re
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
A4_CONTENT_PX = 704  # 210 mm minus the print stylesheet's 2 x 12 mm margins, at 96 px per inch


def pdf_pages(pdf: Path) -> int:
    """Number of pages of a PDF (its page objects)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def check_print_layout(report: Path, prefix: str) -> list[str]:
    """Lay the report out as printed on A4 and return what sticks out of the
    page (tables and charts wider than the content box); save screenshots
    of the title page, the key indicators and one comparison chart into
    test-artifacts/."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": A4_CONTENT_PX, "height": 1000})
            page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
                       else route.continue_())
            page.goto(report.resolve().as_uri())
            page.emulate_media(media="print")
            for selector, name in (("#title", "title"), ("#summary", "summary"),
                                   ("figure.compare", "comparison")):
                page.locator(selector).first.screenshot(path=str(ARTIFACTS / f"{prefix}-{name}.png"))
            wide = page.evaluate("""(limit) => [...document.querySelectorAll('table, svg')]
                .filter(e => e.getBoundingClientRect().right > limit + 1)
                .map(e => e.getAttribute('data-item') || e.getAttribute('data-chart') || e.tagName)""",
                                 A4_CONTENT_PX)
        finally:
            browser.close()
    return list(wide)
