"""Romanised Hindi and Devanagari meet in a shared spelling key.

People write Hindi in both scripts: "sadak kharab hai" and "सड़क खराब है". Every Devanagari word
and every Latin word of a record gets a *key*, a loose Latin spelling; a query word in one script
also matches the records whose words in the other script have the same key. So "sadak" finds
"सड़क", "baarish" finds "बारिश", and "शिकायत" finds "shikayat".

A Devanagari word is romanised with indic-transliteration (its ITRANS scheme) after three steps
that make the romanisation read as Hindi is spoken and typed:

1. the nukta is already gone (analysis folds it): ड़ is written d, ज़ j, फ़ ph;
2. the inherent vowel is dropped where Hindi does not say it (schwa deletion): at the end of a
   word (सड़क → sadak, not sadaka) unless the word ends in a conjunct (क्षेत्र → kshetra), and
   inside a word between a sounded syllable and a consonant with a vowel (प्रधानमंत्री →
   pradhanmantri);
3. anusvara and candrabindu are read as the nasal of the next consonant (मंत्री → mantri,
   संबंध → sambandh) or n at the end (मैं → main).

Both sides are then folded the same way: lower case, only a-z, long vowels short (aa→a, ee→i,
oo→u), doubled letters single (pakka→paka), chh/cch/chch → ch, w → v, z → j, f → ph, q → k.

The precision cost (docs/search.md): keys ignore vowel length and retroflex against dental
consonants, so different words can share one (कम "less" and काम "work" both key to "kam"), and
an English word can share a key with a Hindi one ("the" and थे). A key is only made for words of
three letters or more, and a key match ranks below a match of the word itself.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indic_transliteration import sanscript

__all__ = ["MIN_KEY_CHARS", "key", "devanagari_key", "latin_key"]

MIN_KEY_CHARS = 3

_VIRAMA = "\u094d"
_NASALS = "\u0901\u0902"  # candrabindu, anusvara
_LABIALS = set("पफबभम")
_FOLDS = [
    (re.compile(r"chch|cch|chh"), "ch"),
    (re.compile(r"ee|ii"), "i"),
    (re.compile(r"oo|uu"), "u"),
    (re.compile(r"w"), "v"),
    (re.compile(r"z"), "j"),
    (re.compile(r"f"), "ph"),
    (re.compile(r"q"), "k"),
    (re.compile(r"(.)\1+"), r"\1"),
]
_NOT_LATIN = re.compile(r"[^a-z]")


def _is_consonant(char: str) -> bool:
    return "\u0915" <= char <= "\u0939" or "\u0958" <= char <= "\u095f" or "\u0978" <= char <= "\u097f"


def _has_vowel_sign(char: str) -> bool:
    return "\u093e" <= char <= "\u094c" or char in "\u0955\u0956\u0957\u0962\u0963"


def _is_vowel(char: str) -> bool:
    return "\u0904" <= char <= "\u0914" or char in "\u0960\u0961\u0972\u0973\u0974\u0975\u0976\u0977"


def _schwa_deleted(word: str) -> str:
    """``word`` with a virama written after each consonant whose inherent vowel is not spoken."""
    chars = list(word)
    n = len(chars)
    # consonants that carry the inherent vowel: followed by no vowel sign and no virama
    inherent = [i for i, c in enumerate(chars) if _is_consonant(c) and not (i + 1 < n and (_has_vowel_sign(chars[i + 1]) or chars[i + 1] == _VIRAMA))]
    syllables = sum(1 for i, c in enumerate(chars) if _is_vowel(c) or (_is_consonant(c) and not (i + 1 < n and chars[i + 1] == _VIRAMA)))
    deleted: set[int] = set()

    def sounded_before(i: int) -> bool:
        # a vowel is spoken just before the consonant at i, and that consonant starts no cluster's second half
        if i == 0 or chars[i - 1] == _VIRAMA:
            return False
        prev = chars[i - 1]
        return _is_vowel(prev) or _has_vowel_sign(prev) or prev in _NASALS or (_is_consonant(prev) and (i - 1) not in deleted)

    def vowel_after(i: int) -> bool:
        # the next character is a single consonant that carries a spoken vowel
        j = i + 1
        if j >= n or not _is_consonant(chars[j]):
            return False
        if j + 1 < n and chars[j + 1] == _VIRAMA:
            return False
        return j not in deleted

    for i in reversed(inherent):
        if i + 1 < n and chars[i + 1] in _NASALS:
            continue  # a nasalised vowel is spoken
        if i == n - 1:
            if syllables > 1 and not (i > 0 and chars[i - 1] == _VIRAMA):
                deleted.add(i)
        elif sounded_before(i) and vowel_after(i):
            deleted.add(i)
    out: list[str] = []
    for i, c in enumerate(chars):
        if c in _NASALS:
            following = chars[i + 1] if i + 1 < n and _is_consonant(chars[i + 1]) else None
            out.append("म्" if following in _LABIALS else "न्")
            continue
        out.append(c)
        if i in deleted:
            out.append(_VIRAMA)
    return "".join(out)


def _fold(latin: str) -> str:
    text = _NOT_LATIN.sub("", latin.lower())
    for pattern, replacement in _FOLDS:
        text = pattern.sub(replacement, text)
    return text


@lru_cache(maxsize=200_000)
def devanagari_key(token: str) -> str | None:
    """The key of a Devanagari token (already analysed: no nukta), or None when too short.

    >>> devanagari_key("सडक"), devanagari_key("बारिश"), devanagari_key("प्रधानमंत्री")
    ('sadak', 'barish', 'pradhanmantri')
    """
    romanised = sanscript.transliterate(_schwa_deleted(token), sanscript.DEVANAGARI, sanscript.ITRANS)
    folded = _fold(romanised)
    return folded if len(folded) >= MIN_KEY_CHARS else None


@lru_cache(maxsize=200_000)
def latin_key(token: str) -> str | None:
    """The key of a Latin token (lower case, no accents), or None when too short or not a word.

    >>> latin_key("baarish"), latin_key("zila")
    ('barish', 'jila')
    """
    if not token.isalpha() or not token.isascii():
        return None
    folded = _fold(token)
    return folded if len(folded) >= MIN_KEY_CHARS else None


def key(token: str) -> str | None:
    """The key of an analysed token of either script (None for digits, short words, other scripts)."""
    if "\u0900" <= token[0] <= "\u097f":
        return devanagari_key(token)
    return latin_key(token)
