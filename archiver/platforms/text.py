"""Plain text from the HTML some platforms send instead of text.

Mastodon's ``content`` and YouTube's ``textDisplay`` are HTML. ``html_to_text`` turns them into
the text a reader saw, with the standard library's ``html.parser``: tags stripped, entities
decoded, ``<br>`` a line break, paragraphs separated by a blank line, and the ``invisible`` spans
of shortened links kept, so links come out whole.
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["html_to_text"]


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self._BLOCKS:
            self._break("\n\n")
        elif tag == "li":
            self._break("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _break(self, separator: str) -> None:
        if not self.parts:
            return
        text = "".join(self.parts)
        stripped = text.rstrip("\n")
        self.parts = [stripped, separator] if stripped else []


def html_to_text(markup: str) -> str:
    """Plain text of HTML such as a status's ``content``: tags stripped, entities decoded, breaks kept.

    >>> html_to_text('<p>Water &amp; power</p><p>Call <a href="tel:1070">1070</a><br />today</p>')
    'Water & power\\n\\nCall 1070\\ntoday'
    """
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts).strip("\n")
