"""Text analysis shared by every backend: how text becomes the tokens that are searched.

The same function turns a record's text and a user's query words into tokens, so a word
matches whatever backend holds the index. Each engine is then handed text that is already in
this normal form, separated by spaces, and needs no analysis of its own to agree with the
others (OpenSearch still runs its ICU analyzer over it; see schemas/search-index.json).

A token is a run of letters, combining marks and digits (Unicode categories L*, M*, N*: what
SQLite's FTS5 index is configured to keep together too, with ``categories 'L* N* Co M*'``). Marks are part of the word: Devanagari
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
def _mark_class() -> str:
    """A regex character class of every combining mark (category M*), from this Python's Unicode database."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x20000):
        if unicodedata.category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


@cache
def _word_re() -> re.Pattern[str]:
    # [^\W_] is a letter or a digit (categories L*, N*), matched in C without a big character class
    return re.compile(f"(?:[^\\W_]|[{_mark_class()}])+")


@cache
def _mark_re() -> re.Pattern[str]:
    return re.compile(f"[{_mark_class()}]+")


_DEVANAGARI_RUN = re.compile(f"[{_DEVANAGARI}]+")
_SCRIPT_RUNS = re.compile(f"[{_DEVANAGARI}]+|[^{_DEVANAGARI}]+")


def _clean(word: str) -> list[str]:
    """A non-ASCII word without leading marks (nothing to sit on), split where the script changes
    between Devanagari and another."""
    lead = _mark_re().match(word)
    if lead:
        word = word[lead.end() :]
        if not word:
            return []
    run = _DEVANAGARI_RUN.search(word)
    if run is None or (run.start() == 0 and run.end() == len(word)):
        return [word]
    return [part for part in _SCRIPT_RUNS.findall(word) if not _mark_re().fullmatch(part)]


_FOLDED_MARKS = re.compile("[\u0300-\u036f\u093c]+")


def normalize(text: str) -> str:
    """The folded form of ``text`` (not yet split): NFKC, lower case, no Latin accents, no nukta."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text.translate(_DROPPED)).lower()
    return unicodedata.normalize("NFC", _FOLDED_MARKS.sub("", unicodedata.normalize("NFD", text)))


def _split(token: str) -> Iterator[str]:
    for start in range(0, len(token), MAX_TOKEN_CHARS):
        yield token[start : start + MAX_TOKEN_CHARS]


def tokens(text: str) -> list[str]:
    """The searchable tokens of ``text``, in order.

    >>> tokens("Sadak ki मरम्मत, NH-48 पर!")
    ['sadak', 'ki', 'मरम्मत', 'nh', '48', 'पर']
    """
    folded = normalize(text)
    found: list[str] = _word_re().findall(folded)
    if not folded.isascii():
        found = [piece for word in found for piece in ((word,) if word.isascii() else _clean(word))]
    if any(len(word) > MAX_TOKEN_CHARS for word in found):
        return [piece for word in found for piece in _split(word)]
    return found


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
    return re.compile(f"(?:[^\\W_]|[{_mark_class()}\u200c\u200d\u00ad])+")


def is_devanagari(token: str) -> bool:
    return bool(token) and "\u0900" <= token[0] <= "\u097f"


if __name__ == "__main__":  # pragma: no cover - a tool for looking at analysis by hand
    for line in sys.stdin:
        print(analyzed(line))
