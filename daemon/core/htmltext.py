"""HTML to readable plain text, for HTML-only mails and replies (Outlook, Gmail web).

Pure and standard library only: block elements become line breaks, list items "- ", script,
style and head vanish, entities decode. Used by parsing (a mail's text body) and quotes (a reply's
new text).
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser


class _TextRenderer(HTMLParser):
    """Block elements become line breaks, list items "- ", script/style/head vanish, entities decode."""

    BLOCKS = frozenset(
        "p div br tr table h1 h2 h3 h4 h5 h6 blockquote pre hr ul ol dl dt dd section article header "
        "footer address form fieldset center li".split()
    )
    HIDDEN = frozenset("script style head title noscript template".split())

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "body":
            self.hidden = 0  # An unclosed <head> must not hide the whole body.
        elif tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in self.BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS and tag not in ("br", "li"):
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """A readable plain-text rendering of an HTML body (stdlib html.parser only)."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html)
        renderer.close()
        text = "".join(renderer.chunks)
    except (AssertionError, ValueError):
        text = unescape(re.sub(r"<[^>]*>", " ", html))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
