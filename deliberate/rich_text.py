"""A consultation's context, as its team wrote it: a small, safe subset of Markdown.

Teams (and imported Polis conversations) write descriptions with blank lines, lists, *emphasis*
and links; shown as plain text, the asterisks and brackets got in the way. Every page that shows a
context uses the one Jinja filter ``rich_text`` (``{{ consultation.context|rich_text }}``), so the
words read the same everywhere.

What is kept: paragraphs, bulleted and numbered lists, emphasis and strong emphasis, links (with
``rel="nofollow noopener"``, only http, https and mailto addresses). Everything else is shown as the
text it is: raw HTML is escaped, and headings, images, tables, code and quotes are not read as
Markdown. GOV.UK classes are given to each element, so no extra styles are needed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from markdown_it import MarkdownIt
from markupsafe import Markup

_CLASSES = {
    "paragraph_open": "govuk-body",
    "bullet_list_open": "govuk-list govuk-list--bullet",
    "ordered_list_open": "govuk-list govuk-list--number",
    "link_open": "govuk-link",
}
_SCHEMES = ("http://", "https://", "mailto:")


def _renderer() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "breaks": True}).enable(
        ["list", "emphasis", "link", "newline"]
    )
    md.validateLink = lambda url: url.strip().lower().startswith(_SCHEMES)

    def with_class(renderer: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        token.attrSet("class", _CLASSES[token.type])
        if token.type == "link_open":
            token.attrSet("rel", "nofollow noopener")
        return renderer.renderToken(tokens, idx, options, env)

    for rule in _CLASSES:
        md.add_render_rule(rule, with_class)
    return md


_MARKDOWN = _renderer()


def rich_text(text: str | None) -> Markup:
    """The text as safe HTML: paragraphs, lists, emphasis and links; all else escaped."""
    if not text or not text.strip():
        return Markup("")
    # markdown-it escapes every character of the source it does not read as one of the rules
    # enabled above, and raw HTML is off: its output is safe to mark as such.
    return Markup(_MARKDOWN.render(text.replace("\r\n", "\n")))  # noqa: S704


def init_app(app: Flask) -> None:
    app.jinja_env.filters["rich_text"] = rich_text
