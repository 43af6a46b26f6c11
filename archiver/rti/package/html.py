"""HTML renderings: each thread as it appeared, severed parts as black boxes with their clause
beside them, and the certified-copy endorsement (R18) at the foot of each page.

Every value is escaped; a box holds no trace of what it hides (the applicant's copy has nothing
to hide in it: ``view`` gives boxes without text).
"""

from __future__ import annotations

from datetime import date
from html import escape

from archiver.rti.notices import TRUE_COPY_ENDORSEMENT
from archiver.rti.package.evidence import ist
from archiver.rti.package.view import Copy, ItemView, ThreadView, clause_text
from archiver.rti.redact import Segment
from archiver.rti.review import RequestRef

__all__ = ["ENDORSEMENT", "render_thread", "render_index", "endorsement_html", "segments_html", "page"]

#: the endorsement of a certified copy (DoPT OM 10/1/2013-IR, RTI-RULES §2), as the notices have it
ENDORSEMENT = TRUE_COPY_ENDORSEMENT

_CSS = """
body{font-family:'Noto Sans','Noto Sans Devanagari',sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#111}
h1{font-size:1.3rem}h2{font-size:1.1rem}
.item{border-left:3px solid #bbb;margin:.6rem 0;padding:.3rem .8rem}
.dept{border-left-color:#1b5e20}.meta{color:#444;font-size:.85rem}
.box{background:#000;color:#000;display:inline-block;min-width:3em;height:1em;vertical-align:middle}
.clause{color:#b00020;font-size:.8rem;font-weight:bold;margin:0 .3em}
mark.severed{background:#ffe082}
.withheld{background:#f3f3f3;font-style:italic}
.endorse{border:1px solid #000;margin-top:2rem;padding:.8rem;font-size:.9rem}
table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2rem .4rem;font-size:.85rem;vertical-align:top}
"""


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="hi-IN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def segments_html(segments: list[Segment]) -> str:
    out = []
    for seg in segments:
        if seg.clause is None:
            out.append(escape(seg.text).replace("\n", "<br>"))
        elif not seg.text:
            width = min(max(seg.hidden, 3), 24) * 0.55
            out.append(
                f'<span class="box" style="width:{width:.1f}em" role="img" aria-label="severed under s.{escape(seg.clause)}"></span>'
                f'<span class="clause">[s.{escape(seg.clause)}]</span>'
            )
        else:
            out.append(f'<mark class="severed" title="severed for the applicant under s.{escape(seg.clause)}">{escape(seg.text)}</mark><span class="clause">[s.{escape(seg.clause)}]</span>')
    return "".join(out)


def endorsement_html(request: RequestRef, on: date) -> str:
    return (
        f'<div class="endorse"><strong>{escape(ENDORSEMENT)}</strong><br>'
        f"RTI registration no. {escape(request.registration_number)}<br><br>"
        f"Signature: ______________________ &nbsp; Seal<br>"
        f"{escape(request.cpio_name)}, {escape(request.cpio_designation)}<br>"
        f"Central/State Public Information Officer, {escape(request.public_authority)}<br>"
        f"Date: {on.strftime('%d/%m/%Y')}" + (f" &nbsp; Place: {escape(request.place)}" if request.place else "") + "</div>"
    )


def _item_html(item: ItemView) -> str:
    record = item.record
    indent = f"margin-left:{min(item.depth, 6) * 1.5:.1f}rem"
    who = "department" if record.by_department else "citizen"
    when = ist(record.created_at) or "time not given by the platform"
    if item.withheld:
        clauses = ", ".join(f"s.{c}" for c in item.decision.clauses)
        return (
            f'<div class="item withheld" style="{indent}"><strong>{item.item}</strong> — a {escape(record.kind)} by a {who}, {escape(when)}: '
            f"withheld under {escape(clauses)}.</div>"
        )
    f = item.fields
    author = segments_html(f["author_name"]) or "(no name given)"
    handle = segments_html(f["author_handle"])
    flags = []
    if record.edited_at:
        flags.append(f"edited {ist(record.edited_at)}")
    if record.deleted_on_platform:
        flags.append("no longer on the platform when captured")
    media = ""
    for n, m in enumerate(record.media):
        alt = segments_html(f.get(f"media.{n}.alt_text", []))
        url = segments_html(f.get(f"media.{n}.url", []))
        media += f'<div class="meta">{escape(m.kind)}: {alt or "(no description)"} — {url or "(no link)"}</div>'
    clauses = "".join(f'<div class="meta">{escape(clause_text(c))}</div>' for c in item.clauses)
    return (
        f'<div class="item {"dept" if record.by_department else ""}" style="{indent}" id="{item.item}">'
        f'<div class="meta"><strong>{item.item}</strong> · {escape(record.platform)} {escape(record.kind)} · {author}'
        + (f" (@{handle})" if handle else "")
        + f" · {escape(when)}{' · ' + escape('; '.join(flags)) if flags else ''}</div>"
        f"<p>{segments_html(f['text'])}</p>{media}"
        f'<div class="meta">record {segments_html(f["record_id"])} · link {segments_html(f["url"]) or "none"} · captured {escape(ist(record.captured_at))}</div>'
        f"{clauses}</div>"
    )


def render_thread(thread: ThreadView, request: RequestRef, copy: Copy, on: date) -> str:
    what = "as supplied to the applicant" if copy == "applicant" else "complete, for the first appellate authority and the Commission; highlighted parts were severed from the applicant's copy"
    body = (
        f"<h1>Thread {thread.title} — RTI {escape(request.registration_number)}</h1>"
        f'<p class="meta">{escape(request.public_authority)}. The conversation as captured, {what}. Times are IST.</p>'
        + "".join(_item_html(item) for item in thread.items)
        + (endorsement_html(request, on) if copy == "applicant" else "")
    )
    return page(f"Thread {thread.title} — RTI {request.registration_number}", body)


def render_index(threads: list[ThreadView], request: RequestRef, copy: Copy, contents: list[tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr><td><a href="threads/{t.title}.html">{t.title}</a></td><td>{len(t.items)}</td>'
        f"<td>{sum(1 for i in t.items if i.decision.kind == 'withhold')}</td><td>{sum(i.boxes for i in t.items) if copy == 'applicant' else sum(len(i.decision.redactions) for i in t.items)}</td></tr>"
        for t in threads
    )
    listing = "".join(f"<li><code>{escape(path)}</code> — {escape(text)}</li>" for path, text in contents)
    body = (
        f"<h1>RTI {escape(request.registration_number)} — {'applicant' if copy == 'applicant' else 'internal and appellate'} copy</h1>"
        f"<p>{escape(request.public_authority)}. Request received {request.received_on.strftime('%d/%m/%Y')}. {escape(request.subject)}</p>"
        f"<h2>What this package holds</h2><ul>{listing}</ul>"
        f"<h2>Threads</h2><table><tr><th>thread</th><th>items</th><th>withheld</th><th>severed parts</th></tr>{rows}</table>"
    )
    return page(f"RTI {request.registration_number}", body)
