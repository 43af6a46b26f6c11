"""Highlighted snippets, made the same way for every backend.

A snippet is cut from the record's own text around the first word the query matched, with each
matched word wrapped in ``<mark>`` and ``</mark>`` (the text itself is not escaped: it is the
record's plain text; runs of white space, line breaks included, become one space). A word is matched when one of its tokens is a query token (or starts with
a query prefix), or when its transliteration key is one the query looked for in its script.
"""

from __future__ import annotations

from collections.abc import Sequence

from archiver.search.analysis import is_devanagari, iter_words
from archiver.search.query import Match
from archiver.search.translit import key

__all__ = ["MARK_START", "MARK_END", "SNIPPET_CHARS", "snippet"]

MARK_START = "<mark>"
MARK_END = "</mark>"
SNIPPET_CHARS = 200


def _matches(word_tokens: list[str], matches: Sequence[Match]) -> bool:
    for match in matches:
        if match.field == "terms":
            if match.prefix:
                if any(t.startswith(match.tokens[0]) for t in word_tokens):
                    return True
            elif any(t in match.tokens for t in word_tokens):
                return True
        else:
            wanted_devanagari = match.field == "deva_keys"
            for token in word_tokens:
                if is_devanagari(token) != wanted_devanagari:
                    continue
                folded = key(token)
                if folded is None:
                    continue
                if (match.prefix and folded.startswith(match.tokens[0])) or (not match.prefix and folded in match.tokens):
                    return True
    return False


def snippet(text: str, matches: Sequence[Match], *, max_chars: int = SNIPPET_CHARS) -> str:
    """About ``max_chars`` of ``text`` around its first matched word, matched words marked.

    >>> snippet("Road repair on NH-48 continues", [Match("terms", ("repair",))])
    'Road <mark>repair</mark> on NH-48 continues'
    """
    spans = [(start, end) for start, end, found in iter_words(text) if matches and _matches(found, matches)]
    if not spans:
        cut = text[:max_chars]
        return _one_line(cut + ("…" if len(text) > max_chars else ""))
    first = spans[0][0]
    begin = max(0, first - max_chars // 4)
    if begin:
        space = text.rfind(" ", 0, begin + 1)
        begin = space + 1 if space != -1 and begin - space < 20 else begin
    end = min(len(text), begin + max_chars)
    parts: list[str] = ["…" if begin else ""]
    at = begin
    for start, stop in spans:
        if start < begin or stop > end:
            continue
        parts.append(text[at:start])
        parts.append(MARK_START + text[start:stop] + MARK_END)
        at = stop
    parts.append(text[at:end])
    parts.append("…" if end < len(text) else "")
    return _one_line("".join(parts))


def _one_line(text: str) -> str:
    # a snippet is shown on one line: a video title's line breaks become spaces
    return " ".join(text.split())
