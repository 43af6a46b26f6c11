"""A letter of the public authority as data, and its two renderings: plain text and HTML.

Notices (``notices``) build a ``Letter`` from a request: heading, reference, addressee, subject,
blocks (paragraphs, labelled fields, lettered items, a fee table) and the signatory. Rendering
is pure and separate, so that a notice reads the same in every format: text for the register's
files and the post, HTML for e-mail and the disclosure package (every value escaped).
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass
from datetime import date

from archiver.rti.deadlines import format_day

__all__ = ["Para", "Fields", "Items", "TableBlock", "Block", "Letter", "render_text", "render_html", "render"]


@dataclass(frozen=True, slots=True)
class Para:
    text: str


@dataclass(frozen=True, slots=True)
class Fields:
    """Labelled values, one per line: "RTI registration number: DOWR/R/2026/00012"."""

    rows: tuple[tuple[str, str], ...]
    heading: str | None = None


@dataclass(frozen=True, slots=True)
class Items:
    """A list; ``labels`` such as ("a", "b") letter the items as a section of the Act does."""

    items: tuple[str, ...]
    heading: str | None = None
    labels: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class TableBlock:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    heading: str | None = None


Block = Para | Fields | Items | TableBlock


@dataclass(frozen=True, slots=True)
class Letter:
    kind: str
    title: str
    authority: str
    authority_address: str | None
    reference: str
    dated: date
    to: tuple[str, ...]
    subject: str
    blocks: tuple[Block, ...]
    signatory: tuple[str, ...]
    copy_to: tuple[str, ...] = ()


_WIDTH = 92


def render(letter: Letter, fmt: str) -> str:
    """``fmt`` is ``text`` or ``html``."""
    if fmt == "text":
        return render_text(letter)
    if fmt == "html":
        return render_html(letter)
    raise ValueError(f"unknown format {fmt!r}; use text or html")


def render_text(letter: Letter) -> str:
    out: list[str] = [letter.authority.upper()]
    if letter.authority_address:
        out.append(letter.authority_address)
    out += ["", letter.title, "", f"No. {letter.reference}".ljust(_WIDTH - 16) + f"Dated {format_day(letter.dated)}", "", "To"]
    out += [f"    {line}" for line in letter.to]
    out += ["", *textwrap.wrap(f"Subject: {letter.subject}", _WIDTH, subsequent_indent="         "), ""]
    for block in letter.blocks:
        out += _text_block(block)
        out.append("")
    out.append("Yours faithfully,")
    out += ["", "", *letter.signatory]
    if letter.copy_to:
        out += ["", "Copy to:"] + [f"    {line}" for line in letter.copy_to]
    return "\n".join(out).rstrip() + "\n"


def _text_block(block: Block) -> list[str]:
    lines: list[str] = []
    if not isinstance(block, Para) and block.heading:
        lines += [block.heading, ""]
    if isinstance(block, Para):
        lines += textwrap.wrap(block.text, _WIDTH) or [""]
    elif isinstance(block, Fields):
        width = max(len(label) for label, _ in block.rows) + 2
        for label, value in block.rows:
            lines += textwrap.wrap(value, _WIDTH, initial_indent=f"{label}:".ljust(width), subsequent_indent=" " * width) or [f"{label}:"]
    elif isinstance(block, Items):
        for index, item in enumerate(block.items):
            mark = f"({block.labels[index]}) " if block.labels else f"{index + 1}. "
            lines += textwrap.wrap(item, _WIDTH, initial_indent=mark, subsequent_indent=" " * len(mark))
    else:
        widths = [max(len(str(cell)) for cell in column) for column in zip(block.header, *block.rows)]
        for row in (block.header, tuple("-" * w for w in widths), *block.rows):
            lines.append("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())
    return lines


def render_html(letter: Letter) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(letter.title)} — {e(letter.reference)}</title>",
        "<style>body{font-family:serif;max-width:46em;margin:2em auto;line-height:1.4}"
        "header{text-align:center}table{border-collapse:collapse}td,th{border:1px solid #444;padding:.2em .5em;text-align:left}"
        "dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dt{font-weight:bold}.ref{display:flex;justify-content:space-between}</style>",
        "</head><body>",
        f'<header><h1>{e(letter.authority)}</h1>' + (f"<p>{e(letter.authority_address)}</p>" if letter.authority_address else "") + f"<h2>{e(letter.title)}</h2></header>",
        f'<p class="ref"><span>No. {e(letter.reference)}</span><span>Dated {e(format_day(letter.dated))}</span></p>',
        "<p>To<br>" + "<br>".join(e(line) for line in letter.to) + "</p>",
        f"<p><strong>Subject:</strong> {e(letter.subject)}</p>",
    ]
    for block in letter.blocks:
        parts.append(_html_block(block))
    parts.append("<p>Yours faithfully,</p><p>" + "<br>".join(e(line) for line in letter.signatory) + "</p>")
    if letter.copy_to:
        parts.append("<p>Copy to:<br>" + "<br>".join(e(line) for line in letter.copy_to) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_block(block: Block) -> str:
    e = html.escape
    heading = f"<h3>{e(block.heading)}</h3>" if not isinstance(block, Para) and block.heading else ""
    if isinstance(block, Para):
        return f"<p>{e(block.text)}</p>"
    if isinstance(block, Fields):
        return heading + "<dl>" + "".join(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in block.rows) + "</dl>"
    if isinstance(block, Items):
        if block.labels:
            return heading + "<ol style=\"list-style:none;padding-left:0\">" + "".join(f"<li>({e(label)}) {e(item)}</li>" for label, item in zip(block.labels, block.items)) + "</ol>"
        return heading + "<ol>" + "".join(f"<li>{e(item)}</li>" for item in block.items) + "</ol>"
    head = "".join(f"<th>{e(cell)}</th>" for cell in block.header)
    body = "".join("<tr>" + "".join(f"<td>{e(str(cell))}</td>" for cell in row) + "</tr>" for row in block.rows)
    return heading + f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
