"""``python -m surveycore.codes > docs/errors.md``: the page of every error code."""

from surveycore.codes import render_markdown

print(render_markdown(), end="")
