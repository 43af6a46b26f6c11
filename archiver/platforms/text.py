"""Plain text from the HTML some platforms send instead of text.

Mastodon's ``content`` and YouTube's ``textDisplay`` are HTML. ``html_to_text`` turns them into
the text a reader saw: tags stripped, entities decoded, ``<br>`` a line break, paragraphs
separated by a blank line, and the ``invisible`` spans of shortened links kept, so links come out
whole.

The result is defined by the standard library's ``html.parser`` (``html_to_text_parsed``). The
markup platforms send is simple — text, and tags with quoted attributes — so ``html_to_text``
first splits it with one regular expression, and hands it to the parser whenever anything else
appears (a comment, a stray ``<``, an unquoted attribute, a ``<script>``): the two give the same
text for every input, which a differential test checks.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

__all__ = ["html_to_text", "html_to_text_parsed"]

_BLOCKS = frozenset({"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"})
# Elements whose content html.parser does not read as markup (or may not, by version): the
# fast path never handles them.
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"})

_SPACE = "[ \t\n\r\f]"
_ATTRIBUTE = rf"{_SPACE}+[A-Za-z_:][-A-Za-z0-9_:.]*(?:{_SPACE}*={_SPACE}*(?:\"[^\"<>]*\"|'[^'<>]*'))?"
#: anything from ``<`` to the next ``>`` without another ``<`` in it: a tag, if any
_CANDIDATE = re.compile(r"(<[^<>]*>)")
#: the tags of the fast path: a start tag (maybe self-closing) with quoted attributes, or an end tag
_TAG = re.compile(rf"<(?:([A-Za-z][A-Za-z0-9]*)(?:{_ATTRIBUTE})*{_SPACE}*/?|/[A-Za-z][A-Za-z0-9]*{_SPACE}*)>")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        _start(self.parts, tag)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _start(parts: list[str], tag: str) -> None:
    """What the start tag ``tag`` (lower case) adds to ``parts``: a line break, a blank line, or nothing."""
    if tag == "br":
        parts.append("\n")
    elif tag in _BLOCKS:
        _break(parts, "\n\n")
    elif tag == "li":
        _break(parts, "\n")


def _break(parts: list[str], separator: str) -> None:
    if not parts:
        return
    stripped = "".join(parts).rstrip("\n")
    parts[:] = [stripped, separator] if stripped else []


def html_to_text_parsed(markup: str) -> str:
    """``html_to_text`` by ``html.parser`` alone: the definition the fast path is checked against."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts).strip("\n")


def _split_text(markup: str) -> str | None:
    """The text of simple markup, or None when it holds anything the fast path does not handle."""
    pieces = _CANDIDATE.split(markup)
    parts: list[str] = []
    # split keeps the tags at odd positions, the text between them at even ones
    for position, piece in enumerate(pieces):
        if position % 2 == 0:
            if "<" in piece:
                return None
            if piece:
                parts.append(unescape(piece) if "&" in piece else piece)
            continue
        tag = _TAG.fullmatch(piece)
        if tag is None:
            return None
        name = tag.group(1)
        if name is None:  # an end tag
            if piece[2:-1].strip(" \t\n\r\f").lower() in _RAW_TEXT:
                return None
            continue
        name = name.lower()
        if name in _RAW_TEXT:
            return None
        _start(parts, name)
    return "".join(parts).strip("\n")


def html_to_text(markup: str) -> str:
    """Plain text of HTML such as a status's ``content``: tags stripped, entities decoded, breaks kept.

    >>> html_to_text('<p>Water &amp; power</p><p>Call <a href="tel:1070">1070</a><br />today</p>')
    'Water & power\\n\\nCall 1070\\ntoday'
    """
    if "<" not in markup:
        return (unescape(markup) if "&" in markup else markup).strip("\n")
    text = _split_text(markup)
    return html_to_text_parsed(markup) if text is None else text
