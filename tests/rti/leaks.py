"""A leak checker for produced packages, written apart from the code it checks.

``find_leaks(root, needles)`` opens every file under ``root`` the way a curious reader could:
ZIP members (a WACZ inside a bag's ZIP too), gzip members (the WARC inside a WACZ), PDF streams
decompressed and the PDF's text as a PDF reader extracts it, each text read as UTF-8, UTF-16
(LE and BE) and Latin-1, with HTML entities, JSON ``\\u`` escapes and URL encoding undone; and
reports every place a needle appears, compared case-insensitively, with Devanagari digits read
as digits, and for numbers whatever separators stand between the digits. Text extracted from a
PDF is also compared with spaces and punctuation removed, since extraction spaces shaped
Devanagari oddly.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, unquote_plus

__all__ = ["find_leaks", "views_of"]

_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_NOT_WORD = re.compile(r"[\W_]+")
MIN_NEEDLE = 4


def _fold(text: str) -> str:
    return text.translate(_DIGITS).lower()


def _gunzip_all(data: bytes) -> bytes:
    out, rest = [], data
    while rest[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(31)
        try:
            out.append(inflater.decompress(rest))
        except zlib.error:
            break
        rest = inflater.unused_data
    return b"".join(out)


def _texts(data: bytes) -> Iterator[tuple[str, str]]:
    text = data.decode("utf-8", "replace")
    yield "utf-8", text
    if "\ufffd" in text:  # not UTF-8 throughout: binary, or another encoding
        yield "latin-1", data.decode("latin-1")
    if data.count(b"\x00") > len(data) // 8:
        for codec in ("utf-16-le", "utf-16-be"):
            yield codec, data.decode(codec, "replace")
            # an odd start shifts every code unit: read from the second byte as well
            yield codec + "+1", data[1:].decode(codec, "replace")


def _unescaped(text: str) -> Iterator[tuple[str, str]]:
    yield "", text
    variants = []
    if "&" in text:
        variants.append(("html", html.unescape(text)))
    if "\\u" in text:
        variants.append(("json", _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)))
    if "%" in text:
        variants += [("url", unquote(text)), ("url+", unquote_plus(text))]
    seen = {text}
    for how, variant in variants:
        if variant not in seen:  # a reading that changes nothing has nothing new to find
            seen.add(variant)
            yield how, variant


def views_of(name: str, data: bytes, depth: int = 0) -> Iterator[tuple[str, str, bool]]:
    """(where, text, from_pdf_extraction) of every way ``data`` can be read."""
    if depth > 6:
        return
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for member in zf.namelist():
                    yield from views_of(f"{name}!{member}", zf.read(member), depth + 1)
        except zipfile.BadZipFile:
            pass
    if data[:2] == b"\x1f\x8b":
        yield from views_of(f"{name}(gunzip)", _gunzip_all(data), depth + 1)
    if data[:5] == b"%PDF-":
        for n, m in enumerate(_STREAM.finditer(data)):
            try:
                inflated = zlib.decompress(m.group(1))
            except zlib.error:
                continue
            yield from views_of(f"{name}(stream {n})", inflated, depth + 1)
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            reader = PdfReader(io.BytesIO(data))
            text = "\n".join(page.extract_text() or "" for page in reader.pages)
            meta: dict[str, object] = dict(reader.metadata or {})
        except PyPdfError:
            pass  # a fragment that is not a whole PDF: its streams were read above
        else:
            yield f"{name}(pdf text)", text, True
            yield f"{name}(pdf info)", " ".join(str(v) for v in meta.values()), False
    for codec, text in _texts(data):
        for how, variant in _unescaped(text):
            yield f"{name}[{codec}{'/' + how if how else ''}]", variant, False


_DIGIT_RUN = re.compile(r"\d(?:[\s\-./]{0,2}\d)*")
_SEPARATORS = re.compile(r"[\s\-./]")


def _digits_of(needle: str) -> str | None:
    """The digits of a needle that is mostly a number (a phone, Aadhaar, account or PIN)."""
    digits = "".join(c for c in needle.translate(_DIGITS) if c.isdigit())
    if len(digits) < 6 or len(digits) < len(needle.replace(" ", "")) * 0.6:
        return None
    return digits


def _digit_runs(folded: str) -> str:
    """Every run of digits, separators of up to two characters between them removed, one per line."""
    return "\n".join(_SEPARATORS.sub("", m.group()) for m in _DIGIT_RUN.finditer(folded))


def find_leaks(root: Path, needles: Iterable[str]) -> list[str]:
    """Every (file, view, needle) where a needle can be read in the files under ``root``."""
    wanted = sorted({_fold(n) for n in needles if len(n) >= MIN_NEEDLE}, key=len, reverse=True)
    compact = {n: _NOT_WORD.sub("", n) for n in wanted}
    digit_needles = {n: d for n in wanted if (d := _digits_of(n)) is not None}
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    found: list[str] = []
    for file in files:
        for where, text, from_pdf in views_of(file.name, file.read_bytes()):
            folded = _fold(text)
            squeezed = _NOT_WORD.sub("", folded) if from_pdf else ""
            runs = _digit_runs(folded) if digit_needles else ""
            for needle in wanted:
                hit = needle in folded
                if not hit and from_pdf and len(compact[needle]) >= 6:
                    hit = compact[needle] in squeezed
                if not hit and needle in digit_needles:
                    hit = digit_needles[needle] in runs
                if hit:
                    found.append(f"{where}: {needle!r}")
    return found
