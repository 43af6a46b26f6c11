"""Redaction: suggestions of third parties' personal information, the reviewer's answer to each,
and the masking every produced file goes through. Pure: no I/O.

**Suggestions** (RTI-RULES R6). For each record *not* written by the department (a citizen's
reply or comment), ``suggest`` pre-flags under s.8(1)(j), as substituted by DPDP s.44(3):

- the author's name, handle and platform id, and where they appear in the record's link;
- in the text: the handles of other citizens it mentions (not the department's or other official
  accounts, ``official_handles``), the names of citizens known to the review set, "my name is …",
  and whatever ``archiver.rti.patterns`` finds (phone numbers, e-mail, Aadhaar, PAN, vehicle
  and bank numbers, IFSC, UPI, PIN codes, addresses, profile links; English, Hindi, Hinglish);
- its media (a citizen's photo may show people; s.9 copyright may also apply).

The department's own posts are never suggested: they are not third-party information.

**Answers.** ``accept`` turns a suggestion into a ``Redaction`` as it is, ``edit`` with a
changed span, ``add`` makes one the detector missed, ``reject`` records why one was turned down.

**Masking.** The WARC evidence is never altered. What is produced for the applicant goes through
a ``Masker``: each redaction's own span becomes a box with its clause, and the same string
anywhere else in the package (a department reply that names the citizen, the record's link, a
record id that embeds the author's id) is boxed as well, with the clause it was first severed
under, so that a severed string never reaches the applicant by another route. Strings shorter
than ``MIN_PROPAGATED_CHARS`` are severed where marked but not searched for elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ahocorasick_rs

from archiver.rti.patterns import find_personal_data, normalise_digits
from archiver.rti.review import Decision, Redaction, RejectedSuggestion, ReviewRecord, record_fields

__all__ = [
    "PERSONAL",
    "MIN_PROPAGATED_CHARS",
    "Suggestion",
    "KnownNames",
    "Segment",
    "Masker",
    "suggest",
    "suggest_review",
    "official_handles_of",
    "accept",
    "edit",
    "add",
    "reject",
    "masker_for",
]

#: the clause every suggestion carries: personal information (s.8(1)(j) as substituted)
PERSONAL = "8(1)(j)"
MIN_PROPAGATED_CHARS = 4

_MENTION = re.compile(r"(?<![A-Za-z0-9_@.])@([A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z0-9_])")
# The lead words in any case; the name itself only as one or two capitalised words, so that
# "I am very angry" or "this is not acceptable" names nobody. Devanagari has no case: there the
# name is what stands between "मेरा नाम" and "है".
_SELF_NAMED = re.compile(
    r"\b(?i:my name is|i am|this is|mera naam|naam)\s+([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\b"
    r"|(?:मेरा नाम|नाम)\s+([\u0900-\u097F]+(?:\s[\u0900-\u097F]+)?)\s+(?:है|हूँ|हूं)"
)


@dataclass(frozen=True, slots=True)
class Suggestion:
    record_id: str
    version_id: str
    field: str
    start: int
    end: int
    text: str
    kind: str
    confidence: str
    reason: str
    clause: str = PERSONAL


def official_handles_of(records: Iterable[ReviewRecord]) -> frozenset[str]:
    """The handles the department's own records are written under (lower case)."""
    return frozenset(r.author_handle.lower().lstrip("@") for r in records if r.by_department and r.author_handle)


_WORD_CHAR = re.compile(r"[\w\u0900-\u097F]")


class KnownNames:
    """The citizens' names known to a review set, found as whole words in lower-cased text."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted({n.lstrip("@").lower() for n in names if len(n.lstrip("@")) >= MIN_PROPAGATED_CHARS})
        self._automaton = ahocorasick_rs.AhoCorasick(self.names, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest) if self.names else None

    def spans(self, lowered: str) -> list[tuple[int, int]]:
        if self._automaton is None:
            return []
        out = []
        for _, start, end in self._automaton.find_matches_as_indexes(lowered):
            before = lowered[start - 1] if start else " "
            after = lowered[end] if end < len(lowered) else " "
            if not _WORD_CHAR.match(before) and not _WORD_CHAR.match(after):
                out.append((start, end))
        return out


def _people(records: Iterable[ReviewRecord]) -> KnownNames:
    return KnownNames(r.author_name for r in records if not r.by_department and r.author_name)


def _settle(items: list[Suggestion]) -> list[Suggestion]:
    """Per field, no two overlap: the longer wins, then the more certain."""
    out: list[Suggestion] = []
    by_field: dict[str, list[Suggestion]] = {}
    for item in items:
        by_field.setdefault(item.field, []).append(item)
    for group in by_field.values():
        kept: list[Suggestion] = []
        for item in sorted(group, key=lambda s: (-(s.end - s.start), s.confidence != "high", s.start)):
            if all(item.end <= k.start or item.start >= k.end for k in kept):
                kept.append(item)
        out.extend(sorted(kept, key=lambda s: s.start))
    return out


def suggest(record: ReviewRecord, *, official_handles: frozenset[str] = frozenset(), people: KnownNames | None = None) -> list[Suggestion]:
    """What to sever from one record version; nothing for the department's own posts (R6)."""
    if record.by_department:
        return []
    fields = record_fields(record)
    found: list[Suggestion] = []

    def add_span(name: str, start: int, end: int, kind: str, confidence: str, reason: str) -> None:
        found.append(Suggestion(record.record_id, record.version_id, name, start, end, fields[name][start:end], kind, confidence, reason))

    for name, kind in (("author_name", "name"), ("author_handle", "handle"), ("author_id", "account_id")):
        if fields[name]:
            add_span(name, 0, len(fields[name]), kind, "high", f"the citizen's {kind.replace('_', ' ')}")
    url = fields["url"]
    folded_url = url.lower()
    for needle in (record.author_handle, record.author_id):
        if needle and url and len(folded_url) == len(url):
            at = folded_url.find(needle.lower())
            while at != -1:
                add_span("url", at, at + len(needle), "profile_link", "high", "the citizen's handle or id in the record's link")
                at = folded_url.find(needle.lower(), at + len(needle))
    text = fields["text"]
    for m in _MENTION.finditer(text):
        if m.group(1).lower() not in official_handles:
            add_span("text", m.start(1), m.end(1), "handle", "high", "a citizen's handle mentioned")
    lowered = text.lower()
    if people is not None and len(lowered) == len(text):
        for start, end in people.spans(lowered):
            add_span("text", start, end, "name", "high", "the name of a citizen in the review set")
    for m in _SELF_NAMED.finditer(text):
        group = 1 if m.group(1) else 2
        add_span("text", m.start(group), m.end(group), "name", "medium", "a name the writer gives")
    for f in find_personal_data(text):
        add_span("text", f.start, f.end, f.kind, f.confidence, f.reason)
    for n, _ in enumerate(record.media):
        for part in ("url", "alt_text"):
            name = f"media.{n}.{part}"
            if fields[name]:
                add_span(name, 0, len(fields[name]), "media", "medium", "a citizen's photo or video (s.9 copyright may also apply)")
    return _settle(found)


def suggest_review(records: Iterable[ReviewRecord], *, official_handles: frozenset[str] | None = None) -> list[Suggestion]:
    """Suggestions for every record version; official handles default to the department's own."""
    items = list(records)
    handles = official_handles if official_handles is not None else official_handles_of(items)
    people = _people(items)
    return [s for record in items for s in suggest(record, official_handles=handles, people=people)]


def accept(suggestion: Suggestion, *, clause: str | None = None, reason: str = "") -> Redaction:
    return Redaction(
        suggestion.record_id, suggestion.version_id, suggestion.field, suggestion.start, suggestion.end, suggestion.text,
        clause or suggestion.clause, "accepted", suggestion.kind, reason or suggestion.reason,
    )


def edit(suggestion: Suggestion, record: ReviewRecord, start: int, end: int, *, clause: str | None = None, reason: str = "") -> Redaction:
    """The suggestion with its span moved to ``start``-``end`` of the same field."""
    value = record_fields(record)[suggestion.field]
    return Redaction(
        suggestion.record_id, suggestion.version_id, suggestion.field, start, end, value[start:end],
        clause or suggestion.clause, "edited", suggestion.kind, reason or suggestion.reason,
    )


def add(record: ReviewRecord, field: str, start: int, end: int, clause: str | None, *, kind: str | None = None, reason: str = "") -> Redaction:
    value = record_fields(record)[field]
    return Redaction(record.record_id, record.version_id, field, start, end, value[start:end], clause, "added", kind, reason)


def reject(suggestion: Suggestion, reason: str) -> RejectedSuggestion:
    return RejectedSuggestion(suggestion.record_id, suggestion.version_id, suggestion.field, suggestion.start, suggestion.end, suggestion.kind, reason)


# -- masking -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a produced value: plain ``text``, or a box (``clause`` set) hiding ``hidden`` characters."""

    text: str
    clause: str | None = None
    hidden: int = 0


_DEVANAGARI_DIGIT = re.compile("[\u0966-\u096F]")


def _fold(value: str) -> str:
    folded = (normalise_digits(value) if _DEVANAGARI_DIGIT.search(value) else value).lower()
    # lower() keeps the length for all but a few letters (İ); offsets must stay exact
    return folded if len(folded) == len(value) else normalise_digits(value)


class Masker:
    """Finds every severed string in any value, case- and digit-script-insensitively.

    The strings go into one Aho-Corasick automaton (``ahocorasick_rs``, leftmost-longest), so a
    search costs one pass over the value however many strings are severed.
    """

    def __init__(self, strings: Mapping[str, str]) -> None:
        #: severed string (folded) → clause
        self.clauses: dict[str, str] = {}
        for text, clause in strings.items():
            if len(text) >= MIN_PROPAGATED_CHARS:
                self.clauses.setdefault(_fold(text), clause)
        self._needles = list(self.clauses)
        self._automaton = ahocorasick_rs.AhoCorasick(self._needles, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest) if self._needles else None

    @property
    def strings(self) -> list[str]:
        """The severed strings (folded), longest first."""
        return sorted(self.clauses, key=len, reverse=True)

    def hits(self, value: str) -> list[tuple[int, int, str]]:
        """(start, end, clause) of every occurrence in ``value``, none overlapping."""
        if self._automaton is None or len(value) < MIN_PROPAGATED_CHARS:
            return []
        needles, clauses = self._needles, self.clauses
        return [(start, end, clauses[needles[n]]) for n, start, end in self._automaton.find_matches_as_indexes(_fold(value))]

    def found_in(self, value: str) -> bool:
        """Does any severed string occur in ``value``?"""
        return self._automaton is not None and bool(self._automaton.find_matches_as_indexes(_fold(value)))

    def segments(self, value: str, spans: Iterable[tuple[int, int, str]] = ()) -> list[Segment]:
        """``value`` cut into plain text and boxes: the ``spans`` given and every other hit."""
        marks = sorted([*spans, *self.hits(value)])
        merged: list[tuple[int, int, str]] = []
        for start, end, clause in marks:
            if merged and start <= merged[-1][1]:
                first, last, clauses = merged[-1]
                joined = clauses if clause in clauses.split(", ") else f"{clauses}, {clause}"
                merged[-1] = (first, max(last, end), joined)
            else:
                merged.append((start, end, clause))
        out: list[Segment] = []
        at = 0
        for start, end, clause in merged:
            if start > at:
                out.append(Segment(value[at:start]))
            out.append(Segment("", clause, end - start))
            at = end
        if at < len(value):
            out.append(Segment(value[at:]))
        return out

    def mask(self, value: str, spans: Iterable[tuple[int, int, str]] = (), *, box: str = "[redacted s.{clause}]") -> str:
        """``value`` with each box written as ``box`` (``{clause}`` filled in)."""
        return "".join(seg.text if seg.clause is None else box.format(clause=seg.clause) for seg in self.segments(value, spans))


def masker_for(decisions: Iterable[Decision], records: Iterable[ReviewRecord]) -> Masker:
    """The masker of a package: every redaction's string, and the identity of every record
    withheld as personal information (its author's name, handle and id), so that a withheld
    citizen is not named by another record."""
    strings: dict[str, str] = {}
    withheld: dict[str, str] = {}
    for decision in decisions:
        for red in decision.redactions:
            if red.clause:
                strings.setdefault(red.text, red.clause)
        if decision.kind == "withhold" and PERSONAL in decision.clauses:
            withheld[decision.record_id] = PERSONAL
    for record in records:
        if record.record_id in withheld and not record.by_department:
            for value in (record.author_name, record.author_handle, record.author_id):
                if value:
                    strings.setdefault(value.lstrip("@"), PERSONAL)
    return Masker(strings)
