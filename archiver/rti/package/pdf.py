"""The certified copy as PDF: every thread of the applicant's copy, severed parts drawn as black
boxes with their clause beside them, the endorsement of R18 at the foot of every page.

Why this route: fpdf2 (pure Python, PyPI) with HarfBuzz shaping (``uharfbuzz``, a PyPI wheel)
lays out Devanagari correctly — vowel signs reordered, conjuncts and reph formed — and the Noto
Sans and Noto Sans Devanagari fonts come from PyPI packages too (``fontpkg-noto-sans``,
``fontpkg-noto-sans-devanagari``, OFL), so a fresh machine needs nothing from outside PyPI. The
fonts are embedded as subsets and the text stays extractable (ToUnicode), so the PDF can be
searched. A box is a filled rectangle: nothing of what it hides is written into the file.
"""

from __future__ import annotations

import logging
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

_LINE_MM = 5.2
_INDENT_MM = 6.0


@cache
def font_paths() -> tuple[Path, Path]:
    """(Noto Sans, Noto Sans Devanagari) from their PyPI packages."""
    import fontpkg

    return Path(fontpkg.path("Noto Sans")), Path(fontpkg.path("Noto Sans Devanagari"))


class _Copy(FPDF):
    def __init__(self, request: RequestRef, on: date) -> None:
        super().__init__(format="A4")
        self.request = request
        self.on = on
        latin, devanagari = font_paths()
        self.add_font("NotoSans", "", str(latin))
        self.add_font("NotoDeva", "", str(devanagari))
        self.set_font("NotoSans", size=10)
        self.set_fallback_fonts(["NotoDeva"], exact_match=False)
        self.set_text_shaping(True)
        self.set_auto_page_break(True, margin=32)
        self.set_title(f"RTI {request.registration_number}: records supplied")
        self.set_creator("Sangrah")

    def footer(self) -> None:
        self.set_y(-28)
        self.set_font("NotoSans", size=8)
        self.set_draw_color(0, 0, 0)
        r = self.request
        lines = [
            f"{ENDORSEMENT} — RTI {r.registration_number}",
            f"Signature: ____________________   Seal        {r.cpio_name}, {r.cpio_designation}, {r.public_authority}",
            f"Date: {self.on.strftime('%d/%m/%Y')}" + (f"   Place: {r.place}" if r.place else "") + f"        Page {self.page_no()}/{{nb}}",
        ]
        self.multi_cell(0, 4, "\n".join(lines), border=1, new_x="LMARGIN", new_y="NEXT")
        self.set_font("NotoSans", size=10)


def _box(pdf: FPDF, seg: Segment) -> None:
    width = min(max(seg.hidden, 3), 24) * 1.6
    label = f" [s.{seg.clause}] "
    label_w = pdf.get_string_width(label)
    if pdf.get_x() + width + label_w > pdf.w - pdf.r_margin:
        pdf.ln(_LINE_MM)
    pdf.set_fill_color(0, 0, 0)
    pdf.cell(width, _LINE_MM - 1, "", fill=True)
    pdf.set_text_color(176, 0, 32)
    pdf.cell(label_w, _LINE_MM - 1, label)
    pdf.set_text_color(0, 0, 0)


def _write(pdf: FPDF, segments: list[Segment], left: float) -> None:
    pdf.set_left_margin(left)
    pdf.set_x(left)
    for seg in segments:
        if seg.clause is not None and not seg.text:
            _box(pdf, seg)
            continue
        for n, part in enumerate(seg.text.split("\n")):
            if n:
                pdf.ln(_LINE_MM)
            if part:
                pdf.write(_LINE_MM, part)
    pdf.ln(_LINE_MM)


def _item(pdf: FPDF, item: ItemView) -> None:
    record = item.record
    left = pdf.l_margin_base + min(item.depth, 6) * _INDENT_MM  # type: ignore[attr-defined]
    who = "department" if record.by_department else "citizen"
    when = ist(record.created_at) or "time not given"
    pdf.set_font("NotoSans", size=8)
    pdf.set_text_color(70, 70, 70)
    if item.withheld:
        clauses = ", ".join(f"s.{c}" for c in item.decision.clauses)
        _write(pdf, [Segment(f"{item.item} — a {record.kind} by a {who}, {when}: withheld under {clauses}.")], left)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("NotoSans", size=10)
        pdf.ln(1.5)
        return
    f = item.fields
    head: list[Segment] = [Segment(f"{item.item} · {record.platform} {record.kind} · ")]
    head += f["author_name"] or [Segment("(no name given)")]
    if f["author_handle"]:
        head += [Segment(" (@"), *f["author_handle"], Segment(")")]
    head.append(Segment(f" · {when}" + (" · edited" if record.edited_at else "") + (" · no longer on the platform" if record.deleted_on_platform else "")))
    _write(pdf, head, left)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("NotoSans", size=10)
    _write(pdf, f["text"], left)
    pdf.set_font("NotoSans", size=8)
    pdf.set_text_color(70, 70, 70)
    for n, m in enumerate(record.media):
        _write(pdf, [Segment(f"{m.kind}: "), *(f.get(f"media.{n}.alt_text") or [Segment("(no description)")])], left)
    _write(pdf, [Segment("record "), *f["record_id"], Segment(f" · captured {ist(record.captured_at)}")], left)
    for clause in item.clauses:
        _write(pdf, [Segment(clause_text(clause))], left)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("NotoSans", size=10)
    pdf.ln(1.5)


def write_pdf(path: Path, threads: list[ThreadView], request: RequestRef, on: date) -> None:
    """Write the applicant's copy of every thread into one PDF at ``path``."""
    # fpdf2 reports every glyph it substitutes at INFO/WARNING; the fallback font is intended
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    pdf = _Copy(request, on)
    pdf.l_margin_base = pdf.l_margin  # type: ignore[attr-defined]
    for thread in threads:
        pdf.add_page()
        pdf.start_section(f"Thread {thread.title}")
        pdf.set_font("NotoSans", size=13)
        pdf.set_left_margin(pdf.l_margin_base)  # type: ignore[attr-defined]
        pdf.multi_cell(0, 7, f"Thread {thread.title} — RTI {request.registration_number}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("NotoSans", size=8)
        pdf.multi_cell(0, 4, f"{request.public_authority}. The conversation as captured, as supplied to the applicant. Times are IST.", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("NotoSans", size=10)
        pdf.ln(2)
        for item in thread.items:
            _item(pdf, item)
    if not threads:
        pdf.add_page()
        pdf.multi_cell(0, 6, "No record is supplied.", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
