"""Patterns for third parties' personal information in Indian text: pure, no I/O.

``find_personal_data`` returns every phone number, e-mail address, Aadhaar and PAN number,
vehicle registration, bank account, IFSC, UPI id, PIN code, street address and profile link it
finds in English, Hindi or Hinglish text, each with its span, a confidence and the reason. It
knows nothing of records or authors: ``archiver.rti.redact`` adds those (handles, names) and
decides what becomes a suggestion.

Devanagari digits (०-९) are read as the digits they are: the text is matched through a
translation that maps each to its ASCII digit, one code point for one, so spans stay exact.

Numbers are recognised by their shape and, where the shape alone is common (a 12-digit number,
a bank account, a 6-digit PIN), by a checksum or by a keyword before them:

- Aadhaar: 12 digits, first 2-9, optionally in groups of four; ``high`` when the Verhoeff check
  digit is valid (UIDAI's scheme), ``medium`` when it is not but "Aadhaar"/"आधार"/"UID" comes
  just before; otherwise not reported (a bare 12-digit number is too often something else).
- PAN: five letters, four digits, a letter; ``high`` when the fourth letter is a holder type the
  Income Tax Department issues (P, C, H, F, A, T, B, L, J, G, K), else ``medium``.
- Bank accounts (9-18 digits) and PIN codes (6 digits) only after their keywords.

Usage::

    for finding in find_personal_data("मेरा नंबर +91 98765 43210 है"):
        finding.kind, finding.text      # ('phone', '+91 98765 43210')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Finding", "KINDS", "find_personal_data", "verhoeff_valid", "normalise_digits"]

Confidence = Literal["high", "medium"]

#: every kind of finding, in the order overlaps are settled (an earlier kind wins a tie)
KINDS = (
    "email",
    "profile_link",
    "upi",
    "aadhaar",
    "pan",
    "ifsc",
    "vehicle",
    "phone",
    "bank_account",
    "address",
    "pin_code",
)

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")


def normalise_digits(text: str) -> str:
    """Devanagari digits as ASCII digits; the same length, so offsets are kept."""
    return text.translate(_DEVANAGARI_DIGITS)


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal information: ``text`` is ``source[start:end]``."""

    kind: str
    start: int
    end: int
    text: str
    confidence: Confidence
    reason: str


# -- Verhoeff (the check digit of Aadhaar numbers) ---------------------------------------------
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    """Does the last digit of ``digits`` check the others by the Verhoeff scheme?

    >>> verhoeff_valid("2363"), verhoeff_valid("2364")
    (True, False)
    """
    if not digits.isdigit():
        return False
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(char)]]
    return check == 0


# -- the patterns --------------------------------------------------------------------------------
# Word boundaries written out: Python's \w does not cover Devanagari vowel signs and viramas.
_L = r"A-Za-z0-9\u0900-\u097F"
_NOT_BEFORE = rf"(?<![{_L}_.+\-/])"
_NOT_AFTER = rf"(?![{_L}_])"
_SEP = r"[ \-]?"

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9])")
_UPI = re.compile(
    r"(?<![A-Za-z0-9._\-])[A-Za-z0-9][A-Za-z0-9._\-]{1,}@(?:upi|ybl|okaxis|okhdfcbank|oksbi|okicici|paytm|ibl|axl|apl|sbi|icici|hdfcbank|axisbank|kotak|barodampay|pnb)(?![A-Za-z0-9.])",
    re.IGNORECASE,
)
_PROFILE = re.compile(
    r"https?://(?:www\.|m\.|mobile\.)?(?:x\.com|twitter\.com|facebook\.com|fb\.com|instagram\.com|youtube\.com|bsky\.app/profile)/(?:@)?[A-Za-z0-9_.\-:]+/?"
    r"|https?://[A-Za-z0-9.\-]+/@[A-Za-z0-9_]+(?:@[A-Za-z0-9.\-]+)?/?",
)
_AADHAAR = re.compile(rf"{_NOT_BEFORE}[2-9]\d{{3}}{_SEP}\d{{4}}{_SEP}\d{{4}}(?![\d])")
_AADHAAR_WORDS = re.compile(r"(?:aadhaa?r|adhaa?r|uid(?:ai)?|आधार|यूआईडी)\s*(?:no\.?|number|card|नंबर|संख्या|कार्ड)?\s*[:\-#]?\s*$", re.IGNORECASE)
_PAN = re.compile(rf"(?<![A-Za-z0-9])[A-Z]{{5}}\d{{4}}[A-Z](?![A-Za-z0-9])")
_PAN_HOLDER_TYPES = frozenset("PCHFATBLJGK")
_IFSC = re.compile(r"(?<![A-Za-z0-9])[A-Z]{4}0[A-Z0-9]{6}(?![A-Za-z0-9])")
_STATES = "AN|AP|AR|AS|BR|CG|CH|DD|DL|DN|GA|GJ|HP|HR|JH|JK|KA|KL|LA|LD|MH|ML|MN|MP|MZ|NL|OD|OR|PB|PY|RJ|SK|TN|TR|TS|UK|UP|WB"
_VEHICLE = re.compile(
    rf"(?<![A-Za-z0-9])(?:(?:{_STATES}){_SEP}\d{{1,2}}[A-Z]?{_SEP}[A-Z]{{1,3}}{_SEP}\d{{1,4}}"
    rf"|\d{{2}}{_SEP}BH{_SEP}\d{{4}}{_SEP}[A-Z]{{1,2}})(?![A-Za-z0-9])"
)
# A mobile number: optional +91 / 0091 / 0, then ten digits starting 6-9 with at most single
# spaces or dashes between them (98765 43210, 98765-43210, 987 654 3210).
_MOBILE = re.compile(rf"(?<![\d+])(?:(?:\+|00)91[ \-]?|0)?[6-9](?:[ \-]?\d){{9}}(?!\d)")
# A landline: STD code with its 0 (2-4 more digits), a separator, 6-8 digits; 10 or 11 in all.
_LANDLINE = re.compile(r"(?<![\d+])(?:(?:\+|00)91[ \-]?|0)(\d{2,4})[ \-](\d{6,8})(?!\d)")
_ACCOUNT = re.compile(
    r"(?:a/c|acct?|account|khata|bank|खाता|खाते|अकाउंट)\s*(?:no\.?|number|num|नंबर|संख्या|सं\.?)?\s*[:\-#]?\s*((?:\d[ \-]?){8,17}\d)(?!\d)",
    re.IGNORECASE,
)
_PIN = re.compile(
    r"(?:pin\s?code|pincode|pin|postal\s?code|पिन\s?कोड|पिनकोड|पिन)\s*(?:no\.?|number|नंबर)?\s*[:\-#]?\s*([1-9]\d{2}\s?\d{3})(?!\d)"
    r"|(?<=[A-Za-z])(?:,\s?|\s?-\s?|\s)([1-9]\d{2}\s?\d{3})(?![\d])",
    re.IGNORECASE,
)
_EN_UNIT = r"(?:House|H\.?\s?No|Flat|Plot|Ward|Sector|Block|Gali|Lane|Quarter|Qtr|Door|Shop|Room|Khasra)"
_EN_PLACE = r"(?:Nagar|Road|Rd|Marg|Colony|Street|St|Lane|Vihar|Enclave|Puram|Bagh|Ganj|Chowk|Bazar|Bazaar|Mohalla|Layout|Extension|Park|Basti|Tola|Society|Apartments?|Township)"
_HI_UNIT = r"(?:मकान|घर|गली|वार्ड|प्लॉट|प्लाट|फ्लैट|सेक्टर|ब्लॉक|कमरा|खसरा)"
_HI_PLACE = r"(?:नगर|मार्ग|रोड|कॉलोनी|कालोनी|मोहल्ला|गली|बस्ती|टोला|चौक|बाज़ार|बाजार|विहार|पुरम|गंज|सोसाइटी)"
_DEVA_WORD = r"[\u0900-\u097F]+"
_ADDRESS = re.compile(
    rf"(?<![A-Za-z]){_EN_UNIT}\.?\s?(?:No\.?|Number|#)?\s?\d+[A-Z]?(?:/\d+)?"
    rf"(?:,?\s(?:(?:[A-Z][A-Za-z]+\s){{0,3}}{_EN_PLACE}\.?(?:\s\d+)?|Sector\s?\d+|Block\s?[A-Z0-9]+|Gali\s?(?:No\.?\s?)?\d+))?(?![A-Za-z])"
    rf"|(?<![\u0900-\u097F]){_HI_UNIT}\s?(?:नंबर|नं\.?|संख्या|क्रमांक|न\.)?\s?\d+"
    rf"(?:,?\s(?:{_DEVA_WORD}\s){{0,2}}{_HI_PLACE})?(?![\u0900-\u097F])"
    rf"|(?<![A-Za-z])(?:[A-Z][A-Za-z]+\s){{1,3}}{_EN_PLACE}\.?,\s?(?:[A-Z][A-Za-z]+)(?:\s?-?\s?[1-9]\d{{5}})(?!\d)",
)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _scan(text: str) -> list[Finding]:
    found: list[Finding] = []

    def add(kind: str, start: int, end: int, confidence: Confidence, reason: str) -> None:
        found.append(Finding(kind, start, end, "", confidence, reason))

    for m in _EMAIL.finditer(text):
        add("email", m.start(), m.end(), "high", "an e-mail address")
    for m in _PROFILE.finditer(text):
        add("profile_link", m.start(), m.end(), "high", "a link to a person's profile")
    for m in _UPI.finditer(text):
        add("upi", m.start(), m.end(), "high", "a UPI payment address")
    for m in _AADHAAR.finditer(text):
        if verhoeff_valid(_digits(m.group())):
            add("aadhaar", m.start(), m.end(), "high", "12 digits with a valid Verhoeff check digit (Aadhaar)")
        elif _AADHAAR_WORDS.search(text[max(0, m.start() - 24) : m.start()]):
            add("aadhaar", m.start(), m.end(), "medium", "12 digits after the word Aadhaar (check digit not valid)")
    for m in _PAN.finditer(text):
        strict = m.group()[3] in _PAN_HOLDER_TYPES
        add("pan", m.start(), m.end(), "high" if strict else "medium", "a PAN (AAAAA9999A)" + ("" if strict else ", holder-type letter not one issued"))
    for m in _IFSC.finditer(text):
        add("ifsc", m.start(), m.end(), "high", "an IFSC bank branch code")
    for m in _VEHICLE.finditer(text):
        add("vehicle", m.start(), m.end(), "high", "a vehicle registration number")
    for m in _MOBILE.finditer(text):
        add("phone", m.start(), m.end(), "high", "a mobile number")
    for m in _LANDLINE.finditer(text):
        if 9 <= len(m.group(1)) + len(m.group(2)) <= 10:
            add("phone", m.start(), m.end(), "high", "a landline number with its STD code")
    for m in _ACCOUNT.finditer(text):
        add("bank_account", m.start(1), m.end(1), "medium", "digits after a bank-account keyword")
    for m in _PIN.finditer(text):
        group = 1 if m.group(1) else 2
        add("pin_code", m.start(group), m.end(group), "high" if group == 1 else "medium", "a PIN code" + (" after its keyword" if group == 1 else " after a place name"))
    for m in _ADDRESS.finditer(text):
        add("address", m.start(), m.end(), "high", "a house, plot, ward or street address")
    return found


def _settle(found: list[Finding]) -> list[Finding]:
    """No two findings overlap: the longer wins, then the kind earlier in ``KINDS``."""
    rank = {kind: n for n, kind in enumerate(KINDS)}
    ordered = sorted(found, key=lambda f: (-(f.end - f.start), rank[f.kind], f.start))
    kept: list[Finding] = []
    for item in ordered:
        if all(item.end <= k.start or item.start >= k.end for k in kept):
            kept.append(item)
    return sorted(kept, key=lambda f: f.start)


def find_personal_data(text: str) -> list[Finding]:
    """Every piece of personal information found in ``text``, in order, none overlapping."""
    if not text:
        return []
    scanned = _settle(_scan(normalise_digits(text)))
    return [Finding(f.kind, f.start, f.end, text[f.start : f.end], f.confidence, f.reason) for f in scanned]
