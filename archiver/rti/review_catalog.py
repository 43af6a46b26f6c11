"""A request's review as the catalog keeps it: the review set, the suggestions and their answers,
and one decision per record (``archiver.rti.review`` is the model and its checks; this module
stores it, reads it back, and refuses what the checks refuse before anything is written).

- ``build_review_set``: the scope (``archiver.rti.scope``) with its threads expanded, read from
  the record dataset (``archiver.rti.threads``); records new to the set get their redaction
  suggestions (``archiver.rti.redact``: never for the department's own posts).
- ``load_review``: the ``ReviewSet`` with the decisions in force (the latest per record), the
  suggestions, and every problem still open (``LoadedReview.problems``): a record undecided, a
  redaction without its clause, a suggestion on a disclosed record not yet answered.
- ``decide``, ``accept_suggestions``, ``reject_suggestions``: each checked against the rules with
  ``validate_review`` first, written with one audit entry naming the records, the clauses and
  each redaction's place (never its text: that is personal information).

Usage::

    build_review_set(catalog, actor, "DOWR/R/2026/00012", config.records_dir, now=now)
    loaded = load_review(catalog, "DOWR/R/2026/00012", config.records_dir, request)
    accept_suggestions(catalog, actor, loaded, None, now=now)        # every open suggestion
    decide(catalog, actor, load_review(...), ["x:1"], "withhold", clauses=("8(1)(j)",), reasons="...", now=now)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from archiver.access.users import Actor
from archiver.catalog import Catalog
from archiver.catalog import rti_review_tables as v
from archiver.catalog.audit import append_entry
from archiver.config import RtiSettings
from archiver.errors import ConfigError, DisclosureError, RtiError
from archiver.model import utc
from archiver.rti.case import Case, DecisionSummary
from archiver.rti.deadlines import ist_day
from archiver.rti.redact import Suggestion, accept, add, edit, suggest_review
from archiver.rti.review import (
    CLAUSES,
    Decision,
    PublicInterestOverride,
    Redaction,
    RejectedSuggestion,
    RequestRef,
    ReviewProblem,
    ReviewRecord,
    ReviewSet,
    record_fields,
    validate_review,
)
from archiver.rti.scope import request_id_of, scope_record_ids
from archiver.rti.threads import read_threads

__all__ = [
    "StoredSuggestion",
    "LoadedReview",
    "BuildReport",
    "Sever",
    "request_ref_for",
    "build_review_set",
    "load_review",
    "decide",
    "accept_suggestions",
    "reject_suggestions",
    "summary_of",
    "problem_lines",
]

_CHUNK = 500
_R6 = "RTI s.8(1)(j), s.10 (R6: each suggestion accepted, edited or rejected)"


@dataclass(frozen=True, slots=True)
class StoredSuggestion:
    id: int
    suggestion: Suggestion
    status: str  #: open, accepted, edited, rejected
    answered_by: str | None
    answer_reason: str | None

    @property
    def label(self) -> str:
        return f"S-{self.id}"


@dataclass(frozen=True)
class LoadedReview:
    registration_no: str
    review: ReviewSet
    co_captured: Mapping[tuple[str, int], frozenset[str]]
    suggestions: tuple[StoredSuggestion, ...]
    #: review set records the dataset no longer holds (a rebuilt dataset lost them)
    missing: tuple[str, ...]

    def versions(self, record_id: str) -> list[ReviewRecord]:
        return self.review.versions(record_id)

    def problems(self) -> tuple[ReviewProblem, ...]:
        """Every reason the review cannot be packaged yet, each naming its record and rule."""
        problems = list(validate_review(self.review))
        for rid in self.missing:
            problems.append(ReviewProblem(rid, "R5", "is in the review set but not in the record dataset; rebuild it with: sangrah rebuild tables"))
        for stored in self.suggestions:
            decision = self.review.decision(stored.suggestion.record_id)
            if stored.status == "open" and decision is not None and decision.kind != "withhold":
                problems.append(ReviewProblem(
                    stored.suggestion.record_id, _R6,
                    f"suggestion {stored.label} ({stored.suggestion.kind} in {stored.suggestion.field}) is not answered; accept, edit or reject it",
                ))
        return tuple(problems)

    def undecided(self) -> list[str]:
        return [rid for rid in self.review.record_ids() if self.review.decision(rid) is None]


@dataclass(frozen=True, slots=True)
class BuildReport:
    records: int  #: record ids in the review set after the build
    added: int  #: record ids new to it
    versions: int  #: captured versions read
    suggested: int  #: suggestions made for the new records
    missing: tuple[str, ...]  #: scope records the dataset does not hold


@dataclass(frozen=True, slots=True)
class Sever:
    """A span a reviewer severs by hand: ``field[start:end]`` of a record's version."""

    field: str
    start: int
    end: int
    clause: str
    version_id: str | None = None  #: None: the record's latest version


def request_ref_for(settings: RtiSettings, case: Case) -> RequestRef:
    """What the review and the package need of the request, with the public authority's particulars."""
    missing = [key for key, value in (("rti.public_authority", settings.public_authority), ("rti.cpio", settings.cpio)) if not value]
    if missing:
        raise ConfigError(
            f"{case.registration_no}: the disclosure package names the public authority and the CPIO who signs it; set {' and '.join(missing)} "
            "in the configuration file (see docs/rti.md, section Configuration)."
        )
    assert settings.public_authority is not None and settings.cpio is not None
    return RequestRef(
        registration_number=case.registration_no, received_on=ist_day(case.request.received_at), public_authority=settings.public_authority,
        cpio_name=settings.cpio.name, cpio_designation=settings.cpio.designation, subject=case.request.subject, place=settings.address or "",
    )


# -- the review set --------------------------------------------------------------------------------
def _review_ids(conn: Connection, request_id: int) -> list[str]:
    query = select(v.rti_review_records.c.record_id).where(v.rti_review_records.c.request_id == request_id).order_by(v.rti_review_records.c.record_id)
    return list(conn.execute(query).scalars())


def build_review_set(catalog: Catalog, actor: Actor, registration_no: str, records_dir: Path, *, now: datetime) -> BuildReport:
    """Bring the review set level with the scope (threads expanded) and suggest for the new records."""
    scope = scope_record_ids(catalog, registration_no)
    if not scope:
        raise RtiError(
            f"{registration_no}: the request concerns no records yet, so there is nothing to review; add them with: "
            f'sangrah rti hold {registration_no} --search "QUERY" (or --records ID ...)', request=registration_no, field="scope", rule="R5",
        )
    found = read_threads(records_dir, scope, expand=True)
    in_scope = set(scope)
    with catalog.engine.connect() as conn:
        request_id = request_id_of(conn, registration_no)
        have = set(_review_ids(conn, request_id))
    rows: dict[str, dict[str, Any]] = {}
    for record in found.records:
        if record.record_id not in have and record.record_id not in rows:
            rows[record.record_id] = {
                "request_id": request_id, "record_id": record.record_id, "thread_id": record.thread_id, "by_department": record.by_department,
                "in_scope": record.record_id in in_scope, "added_by": actor.name, "added_at": now,
            }
    # suggestions see the whole set (the citizens' names known to it), and are kept for the new records only
    suggestions = [s for s in suggest_review(found.records) if s.record_id in rows]

    def work(conn: Connection) -> None:
        items = list(rows.values())
        for start in range(0, len(items), 2_000):
            conn.execute(insert(v.rti_review_records), items[start : start + 2_000])
        values = [
            {"request_id": request_id, "record_id": s.record_id, "version_id": s.version_id, "field": s.field, "span_start": s.start, "span_end": s.end,
             "text": s.text, "kind": s.kind, "confidence": s.confidence, "reason": s.reason, "clause": s.clause, "status": "open", "made_at": now}
            for s in suggestions
        ]
        for start in range(0, len(values), 2_000):
            conn.execute(insert(v.rti_suggestions), values[start : start + 2_000])
        append_entry(
            conn, actor=actor.name, action="rti_review_build", target=registration_no, outcome="ok", at=now,
            details={"scope": len(scope), "added": len(rows), "records": len(have) + len(rows), "suggestions": len(suggestions), "missing": list(found.missing[:50])},
        )

    catalog.write(work)
    return BuildReport(len(have) + len(rows), len(rows), len(found.records), len(suggestions), found.missing)


# -- reading it back -------------------------------------------------------------------------------
def _suggestion(row: Any) -> StoredSuggestion:
    s = Suggestion(row["record_id"], row["version_id"], row["field"], row["span_start"], row["span_end"], row["text"], row["kind"], row["confidence"], row["reason"], row["clause"])
    return StoredSuggestion(row["id"], s, row["status"], row["answered_by"], row["answer_reason"])


def _decisions(conn: Connection, request_id: int) -> dict[str, Decision]:
    latest: dict[str, Any] = {}
    for row in conn.execute(select(v.rti_decisions).where(v.rti_decisions.c.request_id == request_id).order_by(v.rti_decisions.c.id)).mappings():
        latest[row["record_id"]] = row  # in id order: the last one is in force
    by_decision: dict[int, list[Redaction]] = defaultdict(list)
    ids = sorted(row["id"] for row in latest.values())
    record_of = {row["id"]: row["record_id"] for row in latest.values()}
    for start in range(0, len(ids), _CHUNK):
        query = select(v.rti_redactions).where(v.rti_redactions.c.decision_id.in_(ids[start : start + _CHUNK])).order_by(v.rti_redactions.c.id)
        for red in conn.execute(query).mappings():
            by_decision[red["decision_id"]].append(Redaction(
                record_of[red["decision_id"]], red["version_id"], red["field"], red["span_start"], red["span_end"], red["text"], red["clause"],
                red["origin"], red["kind"], red["reason"],
            ))
    out: dict[str, Decision] = {}
    for rid, row in latest.items():
        over = row["override"]
        override = PublicInterestOverride(tuple(over["clauses"]), over["reasons"], over["recorded_by"], datetime.fromisoformat(over["recorded_at"])) if over else None
        out[rid] = Decision(rid, row["kind"], tuple(row["clauses"] or ()), row["reasons"], tuple(by_decision.get(row["id"], ())), (), override, row["decided_by"])
    return out


def load_review(catalog: Catalog, registration_no: str, records_dir: Path, request: RequestRef) -> LoadedReview:
    """The request's review set, decisions and suggestions, with every version read from the dataset."""
    with catalog.engine.connect() as conn:
        request_id = request_id_of(conn, registration_no)
        ids = _review_ids(conn, request_id)
        decisions = _decisions(conn, request_id)
        query = select(v.rti_suggestions).where(v.rti_suggestions.c.request_id == request_id).order_by(v.rti_suggestions.c.id)
        suggestions = tuple(_suggestion(row) for row in conn.execute(query).mappings())
    if not ids:
        found_records: tuple[ReviewRecord, ...] = ()
        co: dict[tuple[str, int], frozenset[str]] = {}
        missing: tuple[str, ...] = ()
    else:
        found = read_threads(records_dir, ids, expand=False)
        found_records, co, missing = found.records, found.co_captured, found.missing
    rejected: dict[str, list[RejectedSuggestion]] = defaultdict(list)
    for stored in suggestions:
        if stored.status == "rejected":
            s = stored.suggestion
            rejected[s.record_id].append(RejectedSuggestion(s.record_id, s.version_id, s.field, s.start, s.end, s.kind, stored.answer_reason or ""))
    decisions = {rid: replace(d, rejected=tuple(rejected.get(rid, ()))) for rid, d in decisions.items()}
    return LoadedReview(registration_no, ReviewSet(request, found_records, decisions), co, suggestions, missing)


def summary_of(loaded: LoadedReview) -> DecisionSummary:
    """The counts and sections the decision letter states."""
    decisions = [loaded.review.decision(rid) for rid in loaded.review.record_ids()]
    kinds = [d.kind for d in decisions if d is not None]
    sections = sorted({c for d in decisions if d for c in d.clauses} | {r.clause for d in decisions if d for r in d.redactions if r.clause})
    return DecisionSummary(kinds.count("disclose"), kinds.count("withhold"), kinds.count("redact"), tuple(sections))


# -- changing it -----------------------------------------------------------------------------------
def problem_lines(problems: Sequence[ReviewProblem], shown: int = 20) -> str:
    """The first ``shown`` problems, one a line, and how many more there are."""
    lines = "\n".join(f"  - {p}" for p in problems[:shown])
    return lines + (f"\n  … and {len(problems) - shown} more" if len(problems) > shown else "")


def _refuse(loaded: LoadedReview, problems: Sequence[ReviewProblem], what: str) -> None:
    if not problems:
        return
    first = problems[0]
    raise DisclosureError(
        f"{loaded.registration_no}: {what} refused, nothing was recorded; {len(problems)} problem(s):\n{problem_lines(problems)}",
        record_id=first.record_id, rule=first.rule, request=loaded.registration_no,
    )


def _check(loaded: LoadedReview, decisions: Mapping[str, Decision], what: str) -> None:
    records = tuple(r for r in loaded.review.records if r.record_id in decisions)
    _refuse(loaded, validate_review(ReviewSet(loaded.review.request, records, dict(decisions))), what)


def _override_json(override: PublicInterestOverride | None) -> dict[str, Any] | None:
    if override is None:
        return None
    return {"clauses": list(override.clauses), "reasons": override.reasons, "recorded_by": override.recorded_by, "recorded_at": utc(override.recorded_at).isoformat()}


def _write(conn: Connection, request_id: int, decisions: Iterable[Decision], at: datetime, suggestion_of: Mapping[tuple[str, str, int, int], int]) -> list[dict[str, Any]]:
    """Append the decisions with their redactions; returns each redaction's place, for the audit."""
    placed: list[dict[str, Any]] = []
    for d in decisions:
        decision_id = int(conn.execute(insert(v.rti_decisions).values(
            request_id=request_id, record_id=d.record_id, kind=d.kind, clauses=list(d.clauses), reasons=d.reasons,
            override=_override_json(d.override), decided_by=d.decided_by, decided_at=at,
        )).inserted_primary_key[0])  # type: ignore[index]
        if d.redactions:
            conn.execute(insert(v.rti_redactions), [
                {"decision_id": decision_id, "version_id": r.version_id, "field": r.field, "span_start": r.start, "span_end": r.end, "text": r.text,
                 "clause": r.clause, "origin": r.origin, "kind": r.kind, "reason": r.reason, "suggestion_id": suggestion_of.get((r.version_id, r.field, r.start, r.end))}
                for r in d.redactions
            ])
        placed += [{"record": d.record_id, "field": r.field, "span": [r.start, r.end], "clause": r.clause, "origin": r.origin} for r in d.redactions]
    return placed


def _require_in_set(loaded: LoadedReview, record_ids: Sequence[str]) -> None:
    known = set(loaded.review.record_ids())
    unknown = [rid for rid in record_ids if rid not in known]
    if unknown:
        raise RtiError(
            f"{loaded.registration_no}: {', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''} not in the review set; see it with: "
            f"sangrah rti review {loaded.registration_no} list (add records with sangrah rti hold, then sangrah rti review {loaded.registration_no} suggest)",
            request=loaded.registration_no, field="record_id", rule="R5",
        )


def _sever(loaded: LoadedReview, record_id: str, sever: Sever) -> Redaction:
    versions = loaded.versions(record_id)
    record = next((r for r in versions if r.version_id == sever.version_id), None) if sever.version_id else (versions[-1] if versions else None)
    where = f"{loaded.registration_no}: {record_id}"
    if record is None:
        raise RtiError(f"{where} has no version {sever.version_id}; its versions are {', '.join(r.version_id[:12] for r in versions)}", request=loaded.registration_no, field="version_id", rule="R5")
    fields = record_fields(record)
    if sever.field not in fields:
        raise RtiError(f"{where}: --sever names field {sever.field!r}, which the record does not have; fields: {', '.join(fields)}", request=loaded.registration_no, field="sever", rule="RTI s.10(1)")
    if sever.clause not in CLAUSES:
        raise RtiError(f"{where}: --sever cites {sever.clause!r}, which is not an exemption; use one of {', '.join(CLAUSES)}", request=loaded.registration_no, field="sever", rule="RTI s.10(1) (R5)")
    if not 0 <= sever.start < sever.end <= len(fields[sever.field]):
        raise RtiError(
            f"{where}: --sever {sever.field}:{sever.start}:{sever.end} lies outside {sever.field} ({len(fields[sever.field])} characters)",
            request=loaded.registration_no, field="sever", rule="RTI s.10(1)",
        )
    return add(record, sever.field, sever.start, sever.end, sever.clause, reason="severed by the reviewer")


def decide(
    catalog: Catalog,
    actor: Actor,
    loaded: LoadedReview,
    record_ids: Sequence[str],
    kind: str,
    *,
    clauses: Sequence[str] = (),
    reasons: str = "",
    severs: Sequence[Sever] = (),
    override: tuple[Sequence[str], str] | None = None,
    now: datetime,
) -> list[Decision]:
    """Decide ``record_ids`` (``disclose``, ``withhold`` or ``redact``); refused whole when any breaks a rule.

    ``redact`` keeps the redactions the record has and adds ``severs``; ``disclose`` and
    ``withhold`` replace them. ``override`` is a s.8(2) override: the exemptions it sets aside
    and its reasons.
    """
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        raise RtiError(f"{loaded.registration_no}: no record to decide; give record ids, or --undecided", request=loaded.registration_no, field="record_id", rule="R5")
    _require_in_set(loaded, ids)
    pio = PublicInterestOverride(tuple(override[0]), override[1].strip(), actor.name, now) if override is not None else None
    decisions: dict[str, Decision] = {}
    for rid in ids:
        current = loaded.review.decision(rid)
        kept = current.redactions if kind == "redact" and current is not None else ()
        redactions = tuple(kept) + tuple(_sever(loaded, rid, s) for s in severs) if kind == "redact" else tuple(_sever(loaded, rid, s) for s in severs)
        decisions[rid] = Decision(rid, kind, tuple(clauses), reasons.strip(), redactions, (), pio, actor.name)  # type: ignore[arg-type]
    _check(loaded, decisions, f"the decision of {len(ids)} record(s)")
    with catalog.engine.connect() as conn:
        request_id = request_id_of(conn, loaded.registration_no)

    def work(conn: Connection) -> None:
        placed = _write(conn, request_id, decisions.values(), now, {})
        append_entry(
            conn, actor=actor.name, action="rti_review_decide", target=loaded.registration_no, outcome="ok", at=now,
            details={"kind": kind, "clauses": list(clauses), "override": list(override[0]) if override else None, "count": len(ids), "records": ids[:200], "redactions": placed[:200], "redaction_count": len(placed)},
        )

    catalog.write(work)
    return list(decisions.values())


def _pick(loaded: LoadedReview, suggestion_ids: Sequence[int] | None) -> list[StoredSuggestion]:
    by_id = {s.id: s for s in loaded.suggestions}
    if suggestion_ids is None:
        return [s for s in loaded.suggestions if s.status == "open"]
    unknown = [f"S-{i}" for i in suggestion_ids if i not in by_id]
    if unknown:
        raise RtiError(f"{loaded.registration_no}: no suggestion {', '.join(unknown)} in its review; list them with: sangrah rti review {loaded.registration_no} list --suggestions", request=loaded.registration_no, field="suggestion", rule="R6")
    answered = [f"{by_id[i].label} ({by_id[i].status})" for i in suggestion_ids if by_id[i].status != "open"]
    if answered:
        raise RtiError(f"{loaded.registration_no}: {', '.join(answered)} already answered; decide the record again to change it", request=loaded.registration_no, field="suggestion", rule="R6")
    return [by_id[i] for i in suggestion_ids]


def accept_suggestions(
    catalog: Catalog, actor: Actor, loaded: LoadedReview, suggestion_ids: Sequence[int] | None, *, clause: str | None = None, span: tuple[int, int] | None = None, now: datetime,
) -> tuple[int, int]:
    """Accept suggestions (all open ones when ``suggestion_ids`` is None), each record becoming ``redact``.

    ``span`` edits the one suggestion given; ``clause`` replaces the suggested 8(1)(j). With
    every open suggestion, those on withheld records are left (nothing of them is given).
    Returns (suggestions accepted, records decided).
    """
    picked = _pick(loaded, suggestion_ids)
    if span is not None and len(picked) != 1:
        raise RtiError(f"{loaded.registration_no}: --span edits one suggestion; give exactly one S-id", request=loaded.registration_no, field="span", rule="R6")
    if clause is not None and clause not in CLAUSES:
        raise RtiError(f"{loaded.registration_no}: --section {clause!r} is not an exemption; use one of {', '.join(CLAUSES)}", request=loaded.registration_no, field="section", rule="RTI s.10(1) (R5)")
    by_record: dict[str, list[tuple[StoredSuggestion, Redaction]]] = defaultdict(list)
    for stored in picked:
        s = stored.suggestion
        current = loaded.review.decision(s.record_id)
        if current is not None and current.kind == "withhold":
            if suggestion_ids is None:
                continue
            raise RtiError(f"{loaded.registration_no}: {s.record_id} is withheld, so nothing of it is severed; decide it again before accepting {stored.label}", request=loaded.registration_no, field="suggestion", rule="R5")
        if span is not None:
            record = next((r for r in loaded.versions(s.record_id) if r.version_id == s.version_id), None)
            if record is None:
                raise RtiError(f"{loaded.registration_no}: {stored.label} names a version the dataset no longer holds; rebuild it with: sangrah rebuild tables", request=loaded.registration_no, field="suggestion", rule="R5")
            by_record[s.record_id].append((stored, edit(s, record, span[0], span[1], clause=clause)))
        else:
            by_record[s.record_id].append((stored, accept(s, clause=clause)))
    decisions: dict[str, Decision] = {}
    for rid, items in by_record.items():
        current = loaded.review.decision(rid)
        kept = current.redactions if current is not None and current.kind == "redact" else ()
        decisions[rid] = Decision(
            rid, "redact", reasons=current.reasons if current else "", redactions=tuple(kept) + tuple(r for _, r in items),
            override=current.override if current else None, decided_by=actor.name,
        )
    _check(loaded, decisions, f"accepting {len(picked)} suggestion(s)")
    answered = [(stored, red) for items in by_record.values() for stored, red in items]
    with catalog.engine.connect() as conn:
        request_id = request_id_of(conn, loaded.registration_no)

    def work(conn: Connection) -> None:
        suggestion_of = {(red.version_id, red.field, red.start, red.end): stored.id for stored, red in answered}
        placed = _write(conn, request_id, decisions.values(), now, suggestion_of)
        for origin in ("accepted", "edited"):
            ids = [stored.id for stored, red in answered if red.origin == origin]
            for start in range(0, len(ids), _CHUNK):
                conn.execute(update(v.rti_suggestions).where(v.rti_suggestions.c.id.in_(ids[start : start + _CHUNK])).values(status=origin, answered_by=actor.name, answered_at=now))
        append_entry(
            conn, actor=actor.name, action="rti_redaction_accept", target=loaded.registration_no, outcome="ok", at=now,
            details={"suggestions": [s.label for s, _ in answered][:200], "count": len(answered), "records": len(decisions), "clause": clause, "edited": span is not None, "redactions": placed[:200]},
        )

    catalog.write(work)
    return len(answered), len(decisions)


def reject_suggestions(catalog: Catalog, actor: Actor, loaded: LoadedReview, suggestion_ids: Sequence[int], *, reason: str, now: datetime) -> int:
    """Turn suggestions down, with the reason kept for the redaction log."""
    if not reason.strip():
        raise RtiError(f"{loaded.registration_no}: a suggestion is rejected only with its reason; give --reason, e.g. \"a public official's name\"", request=loaded.registration_no, field="reason", rule="R6")
    if not suggestion_ids:
        raise RtiError(f"{loaded.registration_no}: no suggestion given; e.g. S-12", request=loaded.registration_no, field="suggestion", rule="R6")
    picked = _pick(loaded, suggestion_ids)

    def work(conn: Connection) -> None:
        ids = [s.id for s in picked]
        conn.execute(update(v.rti_suggestions).where(v.rti_suggestions.c.id.in_(ids)).values(status="rejected", answered_by=actor.name, answered_at=now, answer_reason=reason.strip()))
        append_entry(conn, actor=actor.name, action="rti_redaction_reject", target=loaded.registration_no, outcome="ok", at=now,
                     details={"suggestions": [s.label for s in picked], "records": sorted({s.suggestion.record_id for s in picked}), "reason": reason.strip()})

    catalog.write(work)
    return len(picked)
