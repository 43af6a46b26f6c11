"""A record dataset row becomes the document every backend indexes.

The document keeps what a hit shows (text, author, dates, the WARC pointer), the exact values
filters and facets use, and three text fields in analysed form: ``terms`` (the tokens of the
text), ``deva_keys`` and ``latn_keys`` (the transliteration keys of its Devanagari and of its
Latin words). Annotation fields (``rti``, ``rti_source``, ``hold_types``, ``hold_ids``,
``under_hold``) and version fields (``current``, ``deleted``) start from what the catalog and
the rules say at indexing, and are changed by partial updates afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from archiver.search.analysis import is_devanagari, tokens
from archiver.search.rules import RuleBook
from archiver.search.translit import key

__all__ = ["ANALYSIS_VERSION", "STORED_FIELDS", "document", "text_fields", "epoch_ms", "annotation_fields"]

#: part of every index's metadata: an index built with another analysis (or, for FTS5, rowid layout) must be rebuilt
ANALYSIS_VERSION = "2"

#: what a hit carries back from any backend
STORED_FIELDS = (
    "version_id", "record_id", "platform", "account", "author_id", "author_handle", "author_name", "by_department", "kind",
    "parent_id", "root_id", "created_ms", "captured_ms", "sort_ms", "language", "hashtags", "url", "text", "retention_class",
    "deleted", "current", "rti", "rti_source", "rti_rules", "hold_types", "hold_ids", "under_hold",
    "warc_file", "warc_offset", "warc_length", "warc_record_id",
)  # fmt: skip


def epoch_ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


#: distinct whitespace-separated pieces of text whose analysis is kept (a few tens of MB at most)
_CHUNK_CACHE = 200_000


@lru_cache(maxsize=_CHUNK_CACHE)
def _chunk_fields(chunk: str) -> tuple[str, str, str]:
    found = tokens(chunk)
    deva: list[str] = []
    latn: list[str] = []
    for token in found:
        folded = key(token)
        if folded:
            (deva if is_devanagari(token) else latn).append(folded)
    return " ".join(found), " ".join(deva), " ".join(latn)


def text_fields(text: str) -> tuple[str, str, str]:
    """``terms``, ``deva_keys`` and ``latn_keys`` of a text.

    Analysed piece by piece between whitespace, each piece once (the vocabulary of posts is
    Zipfian: a few thousand pieces make most of any text). The same tokens as ``tokens(text)``:
    no token spans whitespace, and every folding step is local to a piece (NFKC, case, marks;
    whitespace is a starter that composes with nothing)."""
    terms: list[str] = []
    deva: list[str] = []
    latn: list[str] = []
    for chunk in text.split():
        words, deva_keys, latn_keys = _chunk_fields(chunk)
        if words:
            terms.append(words)
            if deva_keys:
                deva.append(deva_keys)
            if latn_keys:
                latn.append(latn_keys)
    return " ".join(terms), " ".join(deva), " ".join(latn)


def annotation_fields(mark: Any | None, rule_ids: Sequence[str], holds: Sequence[Any]) -> dict[str, Any]:
    """The annotation fields of a version: a manual mark beats the rules; holds are listed."""
    if mark is not None:
        rti, source = ("yes" if mark.relevant else "no"), "manual"
    elif rule_ids:
        rti, source = "yes", f"rule:{rule_ids[0]}"
    else:
        rti, source = "unmarked", None
    return {
        "rti": rti,
        "rti_source": source,
        "hold_types": sorted({h.hold_type for h in holds}),
        "hold_ids": sorted(h.id for h in holds),
        "under_hold": bool(holds),
    }


def document(row: Mapping[str, Any], rules: RuleBook, *, current: bool, deleted: bool, mark: Any | None = None, holds: Sequence[Any] = ()) -> dict[str, Any]:
    """The document of one content version row of the record dataset (instants as UTC epoch
    milliseconds ``created_ms`` and ``captured_ms``)."""
    terms, deva_keys, latn_keys = text_fields(row["text"] or "")
    created_ms = row["created_ms"]
    captured_ms = row["captured_ms"]
    rule_ids = rules.matching(terms, row["account"], row["hashtags"] or (), created_ms)
    return {
        "version_id": row["version_id"],
        "record_id": row["record_id"],
        "platform": row["platform"],
        "account": row["account"],
        "author_id": row["author_id"],
        "author_handle": row["author_handle"],
        "author_name": row["author_name"],
        "by_department": bool(row["by_department"]),
        "kind": row["kind"],
        "parent_id": row["parent_id"],
        "root_id": row["root_id"],
        "created_ms": created_ms,
        "captured_ms": captured_ms,
        "sort_ms": created_ms if created_ms is not None else captured_ms,
        "language": row["language"],
        "hashtags": list(row["hashtags"] or ()),
        "url": row["url"],
        "text": row["text"] or "",
        "terms": terms,
        "deva_keys": deva_keys,
        "latn_keys": latn_keys,
        "retention_class": row["retention_class"],
        "deleted": deleted,
        "current": current,
        "rti_rules": rule_ids,
        **annotation_fields(mark, rule_ids, holds),
        "warc_file": row["warc_file"],
        "warc_offset": row["warc_offset"],
        "warc_length": row["warc_length"],
        "warc_record_id": row["warc_record_id"],
    }
