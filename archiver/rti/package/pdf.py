"""The certified copy as PDF: every thread of the applicant's copy, severed parts drawn as black
boxes with their clause beside them, the endorsement of R18 at the foot of every page.

Why this route: fpdf2 (pure Python, PyPI) with HarfBuzz shaping (``uharfbuzz``, a PyPI wheel)
lays out Devanagari correctly — vowel signs reordered, conjuncts and reph formed — and the Noto
Sans and Noto Sans Devanagari fonts come from PyPI packages too (``fontpkg-noto-sans``,
``fontpkg-noto-sans-devanagari``, OFL), so a fresh machine needs nothing from outside PyPI. The
fonts are embedded as subsets and the text stays extractable (ToUnicode), so the PDF can be
searched. A box is a filled rectangle: nothing of what it hides is written into the file.

Lines are broken here rather than by fpdf2: its line breaker measures a line again, shaped,
after every character, which costs seconds per thousand records. Each word is measured once
(widths cached), each line is drawn with one call per run of text, and HarfBuzz shaping is
switched on only for runs that hold Devanagari, the only script that needs it here; Latin runs
draw twenty times faster without it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from fpdf import FPDF

from archiver.rti.package.evidence import ist
from archiver.rti.package.html import ENDORSEMENT
from archiver.rti.package.view import ItemView, ThreadView, clause_text
from archiver.rti.redact import Segment
from archiver.rti.review import RequestRef

__all__ = ["font_paths", "write_pdf"]

_INDENT_MM = 6.0
_TOKENS = re.compile(r"\S+\s*|\s+")
_COMPLEX = re.compile(r"[\u0900-\u097F\uA8E0-\uA8FF]")


@cache
def font_paths() -> tuple[Path, Path]:
    """(Noto Sans, Noto Sans Devanagari) from their PyPI packages."""
    import fontpkg

    return Path(fontpkg.path("Noto Sans")), Path(fontpkg.path("Noto Sans Devanagari"))


@dataclass(frozen=True, slots=True)
class _Run:
    text: str
    width: float
    clause: str | None = None  #: set for a box


class _Copy(FPDF):
    def __init__(self, request: RequestRef, on: date) -> None:
        super().__init__(format="A4")
        self.request = request
        self.on = on
        latin, devanagari = font_paths()
        self.add_font("NotoSans", "", str(latin))
        self.add_font("NotoDeva", "", str(devanagari))
        self.set_font("NotoSans", size=10)
        self.set_auto_page_break(True, margin=30)
        self.set_title(f"RTI {request.registration_number}: records supplied")
        self.set_creator("Sangrah")
        self._complex = False
        self._widths: dict[tuple[float, str], float] = {}

    def script(self, text: str) -> None:
        """Set up for drawing ``text``: Devanagari shaped in its own font (which has the Latin
        letters and punctuation too), anything else in Noto Sans on fpdf2's fast path."""
        complex_ = bool(_COMPLEX.search(text))
        if complex_ != self._complex:
            size = self.font_size_pt
            self.set_text_shaping(complex_)
            self.set_fallback_fonts(["NotoSans"] if complex_ else [], exact_match=False)
            self.set_font("NotoDeva" if complex_ else "NotoSans", size=size)
            self._complex = complex_

    def size(self, points: float) -> None:
        self.set_font("NotoDeva" if self._complex else "NotoSans", size=points)

    def width(self, text: str) -> float:
        key = (self.font_size_pt, text)
        if key not in self._widths:
            self.script(text)
            self._widths[key] = self.get_string_width(text)
        return self._widths[key]

    def footer(self) -> None:
        self.set_y(-26)
        self.size(8)
        self.set_text_color(0, 0, 0)
        r = self.request
        lines = [
            f"{ENDORSEMENT} — RTI {r.registration_number}",
            f"Signature: ____________________   Seal        {r.cpio_name}, {r.cpio_designation}, {r.public_authority}",
            f"Date: {self.on.strftime('%d/%m/%Y')}" + (f"   Place: {r.place}" if r.place else "") + f"        Page {self.page_no()}",
        ]
        top = self.get_y()
        for line in lines:
            self.script(line)
            self.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
        self.rect(self.l_margin, top, self.w - self.l_margin - self.r_margin, self.get_y() - top)


def _box_width(pdf: _Copy, seg: Segment) -> float:
    return min(max(seg.hidden, 3), 24) * pdf.font_size * 0.45


def _runs(pdf: _Copy, segments: list[Segment]) -> list[_Run]:
    """Words and boxes, each with its width, in order."""
    out: list[_Run] = []
    for seg in segments:
        if seg.clause is not None and not seg.text:
            out.append(_Run("", _box_width(pdf, seg), seg.clause))
            # the clause beside the box, drawn with the text that follows it
            label = f" [s.{seg.clause}] "
            out.append(_Run(label, pdf.width(label)))
            continue
        for token in _TOKENS.findall(seg.text):
            out.append(_Run(token, pdf.width(token)))
    return out


def _split_long(pdf: _Copy, run: _Run, room: float) -> list[_Run]:
    """A word wider than a line (a long link), cut where it fits."""
    pieces, rest = [], run.text
    while rest:
        n = len(rest)
        while n > 1 and pdf.width(rest[:n]) > room:
            n = max(1, int(n * room / pdf.width(rest[:n])) if pdf.width(rest[:n]) else n - 1)
        pieces.append(_Run(rest[:n], pdf.width(rest[:n])))
        rest = rest[n:]
    return pieces


def _lines(pdf: _Copy, segments: list[Segment], room: float) -> list[list[_Run]]:
    lines: list[list[_Run]] = [[]]
    used = 0.0
    for run in _runs(pdf, segments):
        if run.text == "\n" or (run.text.strip() == "" and "\n" in run.text):
            lines.append([])
            used = 0.0
            continue
        parts = _split_long(pdf, run, room) if run.width > room else [run]
        for part in parts:
            if used + part.width > room and lines[-1]:
                lines.append([])
                used = 0.0
            lines[-1].append(part)
            used += part.width
    return lines


def _draw(pdf: _Copy, segments: list[Segment], left: float, size: float, grey: bool = False) -> None:
    pdf.size(size)
    height = size * 0.5
    room = pdf.w - pdf.r_margin - left
    pdf.set_text_color(*((80, 80, 80) if grey else (0, 0, 0)))
    for line in _lines(pdf, segments, room):
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            pdf.size(size)
            pdf.set_text_color(*((80, 80, 80) if grey else (0, 0, 0)))
        x, y = left, pdf.get_y()
        text: list[_Run] = []

        def flush() -> None:
            nonlocal x, text
            if text:
                joined = "".join(r.text for r in text)
                width = sum(r.width for r in text)
                pdf.script(joined)
                pdf.set_xy(x, y)
                pdf.cell(width, height, joined)
                x += width
                text = []

        for run in line:
            if run.clause is None:
                text.append(run)
                continue
            flush()
            pdf.set_fill_color(0, 0, 0)
            pdf.rect(x, y + height * 0.12, run.width, height * 0.76, style="F")
            x += run.width
        flush()
        pdf.set_xy(left, y + height)
    pdf.set_text_color(0, 0, 0)


def _item(pdf: _Copy, item: ItemView, left_margin: float) -> None:
    record = item.record
    left = left_margin + min(item.depth, 6) * _INDENT_MM
    who = "department" if record.by_department else "citizen"
    when = ist(record.created_at) or "time not given"
    if item.withheld:
        clauses = ", ".join(f"s.{c}" for c in item.decision.clauses)
        _draw(pdf, [Segment(f"{item.item} — a {record.kind} by a {who}, {when}: withheld under {clauses}.")], left, 8, grey=True)
        pdf.ln(1.2)
        return
    f = item.fields
    head: list[Segment] = [Segment(f"{item.item} · {record.platform} {record.kind} · ")]
    head += f["author_name"] or [Segment("(no name given)")]
    if f["author_handle"]:
        head += [Segment(" (@"), *f["author_handle"], Segment(")")]
    head.append(Segment(f" · {when}" + (" · edited" if record.edited_at else "") + (" · no longer on the platform" if record.deleted_on_platform else "")))
    _draw(pdf, head, left, 8, grey=True)
    _draw(pdf, f["text"], left, 10)
    for n, m in enumerate(record.media):
        _draw(pdf, [Segment(f"{m.kind}: "), *(f.get(f"media.{n}.alt_text") or [Segment("(no description)")])], left, 8, grey=True)
    pdf.ln(1.2)


def write_pdf(path: Path, threads: list[ThreadView], request: RequestRef, on: date) -> None:
    """Write the applicant's copy of every thread into one PDF at ``path``."""
    # fpdf2 reports each glyph it takes from the fallback font; that is intended here
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    pdf = _Copy(request, on)
    left = pdf.l_margin
    for thread in threads:
        pdf.add_page()
        pdf.start_section(f"Thread {thread.title}")
        _draw(pdf, [Segment(f"Thread {thread.title} — RTI {request.registration_number}")], left, 13)
        _draw(pdf, [Segment(f"{request.public_authority}. The conversation as captured, as supplied to the applicant. Times are IST.")], left, 8, grey=True)
        pdf.ln(2)
        for item in thread.items:
            _item(pdf, item, left)
        cited = list(dict.fromkeys(c for item in thread.items for c in item.clauses))
        if cited:
            pdf.ln(1)
            _draw(pdf, [Segment("Exemptions cited in this thread: " + "; ".join(clause_text(c) for c in cited))], left, 8, grey=True)
    if not threads:
        pdf.add_page()
        _draw(pdf, [Segment("No record is supplied.")], left, 10)
    pdf.output(str(path))
