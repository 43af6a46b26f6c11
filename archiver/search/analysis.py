"""Text analysis shared by every backend: how text becomes the tokens that are searched.

The same function turns a record's text and a user's query words into tokens, so a word
matches whatever backend holds the index. Each engine is then handed text that is already in
this normal form, separated by spaces, and needs no analysis of its own to agree with the
others (OpenSearch still runs its ICU analyzer over it; see schemas/search-index.json).

A token is a run of letters, combining marks and digits (Unicode categories L*, M*, N*, Co: the
``categories`` SQLite's FTS5 index is configured with). Marks are part of the word: Devanagari
vowel signs (ा ि ी ु ू े ै ो ौ), the virama (्), anusvara (ं) and candrabindu (ँ) never split a
word or vanish. What is folded, in this order:

- NFKC (full-width and compatibility forms become the plain letter), then lower case;
- accents on Latin letters (café → cafe);
- the nukta (़): सड़क and सडक, ज़िला and जिला are one word, as they are spelled both ways in posts;
- zero-width joiners and non-joiners and soft hyphens are dropped, so a word typed with one is
  the word typed without.

A run is split where the script changes between Devanagari and another script (``helpलाइन``),
as ICU's tokenizer does, and a token longer than 255 characters is cut into pieces of 255, as
the standard tokenizer of Lucene does.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache

__all__ = ["NUKTA", "MAX_TOKEN_CHARS", "normalize", "tokens", "analyzed", "iter_words", "is_devanagari"]

NUKTA = "\u093c"
MAX_TOKEN_CHARS = 255
_DROPPED = dict.fromkeys(map(ord, "\u200c\u200d\u00ad\u2060\ufeff"))
_DEVANAGARI = "\u0900-\u097f\ua8e0-\ua8ff\u1cd0-\u1cff"


@cache
def _word_class() -> str:
    """A regex character class of every code point in categories L*, M*, N* and Co, Devanagari
    excluded (it has its own class), built once from the Unicode database of this Python."""
    ranges: list[tuple[int, int]] = []
    start = None
    deva = set(range(0x0900, 0x0980)) | set(range(0xA8E0, 0xA900)) | set(range(0x1CD0, 0x1D00))
    for code in range(0x30, 0x40000):
        inside = code not in deva and unicodedata.category(chr(code))[0] in "LMN" or unicodedata.category(chr(code)) == "Co"
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append((start, code - 1))
            start = None
    if start is not None:
        ranges.append((start, 0x3FFFF))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


@cache
def _word_re() -> re.Pattern[str]:
    return re.compile(f"[{_DEVANAGARI}]+|[{_word_class()}]+")


def normalize(text: str) -> str:
    """The folded form of ``text`` (not yet split): NFKC, lower case, no Latin accents, no nukta."""
    text = unicodedata.normalize("NFKC", text.translate(_DROPPED)).lower()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize("NFC", "".join(c for c in decomposed if not ("\u0300" <= c <= "\u036f") and c != NUKTA))
    return text


def _split(token: str) -> Iterator[str]:
    for start in range(0, len(token), MAX_TOKEN_CHARS):
        yield token[start : start + MAX_TOKEN_CHARS]


def tokens(text: str) -> list[str]:
    """The searchable tokens of ``text``, in order.

    >>> tokens("Sadak ki मरम्मत, NH-48 पर!")
    ['sadak', 'ki', 'मरम्मत', 'nh', '48', 'पर']
    """
    out: list[str] = []
    for match in _word_re().finditer(normalize(text)):
        word = match.group()
        if all(unicodedata.category(c)[0] == "M" for c in word):
            continue  # marks with no letter to sit on (a damaged word) make no word
        out.extend(_split(word) if len(word) > MAX_TOKEN_CHARS else (word,))
    return out


def analyzed(text: str) -> str:
    """The tokens of ``text`` joined by single spaces: what every engine indexes."""
    return " ".join(tokens(text))


def iter_words(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """``(start, end, tokens)`` of each word of the raw ``text``, for highlighting: the span is in
    the original string, and its tokens are those ``tokens()`` gives for that span."""
    pattern = _raw_word_re()
    for match in pattern.finditer(text):
        found = tokens(match.group())
        if found:
            yield match.start(), match.end(), found


@cache
def _raw_word_re() -> re.Pattern[str]:
    # the raw text still has nukta, joiners and accents inside its words: keep them in the span
    return re.compile(f"[{_DEVANAGARI}{_word_class()}\u200c\u200d\u00ad]+")


def is_devanagari(token: str) -> bool:
    return bool(token) and "\u0900" <= token[0] <= "\u097f"


if __name__ == "__main__":  # pragma: no cover - a tool for looking at analysis by hand
    for line in sys.stdin:
        print(analyzed(line))
