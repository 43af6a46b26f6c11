"""Review sets from the record dataset, and the checks a review must pass before packaging (R5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from archiver.errors import ReviewIncomplete
from archiver.model import WarcPointer
from archiver.rti.redact import accept, add, suggest_review
from archiver.rti.review import Decision, PublicInterestOverride, Redaction, RequestRef, ReviewRecord, ReviewSet, require_complete, twenty_years_before, validate_review
from archiver.rti.threads import read_threads
from tests.rti.conftest import Archive

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def _rec(rid: str, text: str, created: datetime, *, by_department: bool = False) -> ReviewRecord:
    return ReviewRecord(
        record_id=rid, version_id=rid.replace(":", "-") + "-v1", platform="x", account="x:1", by_department=by_department, kind="reply",
        text=text, captured_at=NOW, pointer=WarcPointer("f.warc.gz", 10, 20), warc_record_id="<urn:uuid:2>", created_at=created,
        author_name="Kavita Das", author_handle="kavitadas4693", root_id="x:1000",
    )


def _messages(review: ReviewSet) -> list[tuple[str | None, str, str]]:
    return [(p.record_id, p.rule, p.message) for p in validate_review(review)]


def test_threads_are_expanded_from_the_dataset_with_every_record_of_each_thread(archive: Archive) -> None:
    rows = archive.rows(["record_id", "root_id", "kind", "warc_file", "warc_offset"])
    reply = next(r for r in rows if r["kind"] in ("reply", "comment") and r["root_id"])
    root = str(reply["root_id"])
    thread = {r["record_id"] for r in rows if r["record_id"] == root or r["root_id"] == root}
    found = read_threads(archive.records_dir, [str(reply["record_id"]), "x:does-not-exist"])
    assert {r.record_id for r in found.records} == thread and len(thread) > 1
    assert found.missing == ("x:does-not-exist",)
    assert found.records[0].record_id == root  # the thread's first post leads
    # every capture's co-captured records come from the whole dataset, not just the thread
    for (file, offset), ids in found.co_captured.items():
        assert ids == {r["record_id"] for r in rows if r["warc_file"] == file and r["warc_offset"] == offset}
    only = read_threads(archive.records_dir, [str(reply["record_id"])], expand=False)
    assert {r.record_id for r in only.records} == {reply["record_id"]}


def test_an_unfinished_review_is_refused_naming_each_record_and_rule(request_ref: RequestRef) -> None:
    a = _rec("x:1", "Call me on +91 9876543210", NOW)
    b = _rec("x:2", "Thank you", NOW)
    review = ReviewSet(request_ref, (a, b), {"x:1": Decision("x:1", "disclose")})
    with pytest.raises(ReviewIncomplete) as caught:
        require_complete(review)
    assert "x:2: has no decision yet; decide disclose, withhold or redact [RTI s.7(1) (R5: every record decided before the reply)]" in caught.value.message
    assert caught.value.record_id == "x:2" and caught.value.to_dict()["error"] == "review_incomplete"
    assert "JSD/R/2026/00017" in caught.value.message


def test_a_redaction_without_its_clause_or_with_a_stale_span_is_refused(request_ref: RequestRef) -> None:
    a = _rec("x:1", "Call me on +91 9876543210", NOW)
    no_clause = add(a, "text", 11, 25, None)
    stale = replace(add(a, "text", 11, 25, "8(1)(j)"), text="+91 9999999999")
    review = ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "redact", redactions=(no_clause,))})
    assert _messages(review) == [
        ("x:1", "RTI s.10(1) (R5: a severed part carries its exemption)", "redaction text[11:25] has no exemption clause; give the s.8(1)(a)-(j), s.9 or s.11 clause it is severed under")
    ]
    review = ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "redact", redactions=(stale,))})
    assert _messages(review)[0][2] == "redaction text[11:25] span 11-25 of text reads '+91 9876543210', not '+91 9999999999'; review it again"
    bad = ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "withhold")})
    assert _messages(bad) == [("x:1", "RTI ss.8-10 (R5)", "is withheld without an exemption section; give the clause (8(1)(a)-(j), 9 or 11)")]
    wrong = ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "withhold", clauses=("8(1)(z)",))})
    assert "'8(1)(z)', which is not an exemption" in _messages(wrong)[0][2]
    ok = ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "redact", redactions=(add(a, "text", 11, 25, "8(1)(j)"),))})
    assert validate_review(ok) == ()


def test_the_twenty_year_rule_leaves_only_8_1_a_c_and_i(request_ref: RequestRef) -> None:
    old = _rec("x:1", "Call me on +91 9876543210", datetime(2006, 11, 20, tzinfo=timezone.utc))
    boundary = _rec("x:2", "Call me on +91 9876543210", datetime(2006, 11, 21, 12, tzinfo=timezone.utc))
    decisions = {
        "x:1": Decision("x:1", "redact", redactions=(add(old, "text", 11, 25, "8(1)(j)"),)),
        "x:2": Decision("x:2", "redact", redactions=(add(boundary, "text", 11, 25, "8(1)(j)"),)),
    }
    problems = _messages(ReviewSet(request_ref, (old, boundary), decisions))
    assert problems == [
        ("x:1", "RTI s.8(3)", "is about an event of 20/11/2006, more than twenty years before the request (21/11/2026): only 8(1)(a), (c) and (i) survive, not 8(1)(j); disclose it or cite one of those")
    ]
    decisions["x:1"] = Decision("x:1", "withhold", clauses=("8(1)(a)",))
    assert _messages(ReviewSet(request_ref, (old, boundary), decisions)) == []
    assert twenty_years_before(date(2028, 2, 29)) == date(2008, 2, 29)
    assert twenty_years_before(date(2120, 2, 29)) == date(2100, 2, 28)  # 2100 is no leap year


def test_a_public_interest_override_needs_reasons_and_covers_only_section_8_1(request_ref: RequestRef) -> None:
    a = _rec("x:1", "The contractor's name is on the notice", NOW)
    empty = PublicInterestOverride(("8(1)(j)",), "  ", "", NOW)
    review = ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "disclose", override=empty)})
    assert [m[2] for m in _messages(review)] == [
        "has a s.8(2) override without reasons; record why the public interest outweighs the harm",
        "has a s.8(2) override that names no one; record who took it",
    ]
    copyright = PublicInterestOverride(("9",), "public money was spent", "FAA", NOW)
    assert _messages(ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "disclose", override=copyright)}))[0][1:] == (
        "RTI s.8(2)", "overrides '9'; s.8(2) sets aside only the exemptions of s.8(1)")
    good = PublicInterestOverride(("8(1)(j)",), "the contractor is paid from public funds; the public interest outweighs the harm", "CPIO A. Rao", NOW)
    assert validate_review(ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "disclose", override=good)})) == ()
    withheld = ReviewSet(request_ref, (a,), {"x:1": Decision("x:1", "withhold", clauses=("8(1)(j)",), override=good)})
    assert "is withheld but carries a s.8(2) override" in _messages(withheld)[0][2]


def test_accepted_suggestions_make_a_complete_review(archive: Archive, request_ref: RequestRef) -> None:
    found = read_threads(archive.records_dir, [str(r["record_id"]) for r in archive.rows(["record_id", "kind"]) if r["kind"] == "post"][:5])
    suggestions = suggest_review(found.records)
    assert suggestions and all(not r.by_department for r in found.records if any(s.record_id == r.record_id for s in suggestions))
    by_record: dict[str, list[Redaction]] = {}
    for s in suggestions:
        by_record.setdefault(s.record_id, []).append(accept(s))
    decisions = {rid: Decision(rid, "redact" if rid in by_record else "disclose", redactions=tuple(by_record.get(rid, ())))
                 for rid in dict.fromkeys(r.record_id for r in found.records)}
    require_complete(ReviewSet(request_ref, found.records, decisions))


def test_the_review_s_clauses_are_the_register_s_exemptions() -> None:
    from archiver.rti.request import EXEMPTIONS
    from archiver.rti.review import CLAUSES, SURVIVE_TWENTY_YEARS

    # s.24 exempts whole organisations (Second Schedule), not an item of a record
    assert set(CLAUSES) == set(EXEMPTIONS) - {"24"}
    assert SURVIVE_TWENTY_YEARS == {"8(1)(a)", "8(1)(c)", "8(1)(i)"}
