"""The typed search query: what to match, which records to keep, how to order and page them.

Every backend receives a ``SearchRequest`` and compiles it to its own language; none of them
sees the user's string. ``parse_query`` turns that string into a tree of ``Match``, ``And``,
``Or`` and ``Not`` nodes and never raises anything but ``SearchError``:

    flood relief           both words (AND is implied)
    "flood relief"         the phrase
    relie*                 a prefix (two letters or more)
    flood OR बाढ़           either
    flood -relief          flood, without relief (also: flood NOT relief)
    (flood OR बाढ़) helpline

AND, OR and NOT are operators only in capitals; anything else is a word. Characters with a
meaning in FTS5 or SQL (``: ^ { } ; ' -- NEAR``) are ordinary text: a word is cut into its
tokens (``analysis.tokens``) and a word of several tokens (``NH-48``) becomes a phrase. An
unclosed quote runs to the end, an unclosed parenthesis closes at the end, a stray closing one
or a dangling operator is ignored. Too long a query, too many words, too deep a nesting, a
one-letter prefix, or an OR that only excludes get a ``SearchError`` that says what to change.

Each word also matches, through its transliteration key (``translit``), the words of the other
script: a Latin word looks in ``deva_keys`` and a Devanagari one in ``latn_keys``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Literal, Union
from zoneinfo import ZoneInfo

import orjson

from archiver.errors import SearchError
from archiver.model import PLATFORMS, content_hash
from archiver.search.analysis import is_devanagari, tokens
from archiver.search.translit import key

__all__ = [
    "IST",
    "MAX_QUERY_CHARS",
    "MAX_WORDS",
    "MAX_DEPTH",
    "MAX_PAGE_SIZE",
    "FIELDS",
    "FACETS",
    "SORTS",
    "HOLD_TYPES",
    "Match",
    "And",
    "Or",
    "Not",
    "Node",
    "Filters",
    "SearchRequest",
    "parse_query",
    "parse_filters",
    "positive_matches",
    "encode_cursor",
    "decode_cursor",
    "ist_day_bounds",
]

IST = ZoneInfo("Asia/Kolkata")
MAX_QUERY_CHARS = 1_000
MAX_WORDS = 64
MAX_DEPTH = 16
MAX_PAGE_SIZE = 500

#: the text fields a match can look in: the analysed text, and the keys of each script's words
FIELDS = ("terms", "deva_keys", "latn_keys")
#: the facets every backend counts
FACETS = ("platform", "account", "by", "kind", "author", "language", "retention_class", "rti", "hold_type", "deleted")
SORTS = ("relevance", "newest", "oldest")
#: RTI-RULES.md section 8, R11
HOLD_TYPES = ("RTI_PENDING", "THIRD_PARTY_WINDOW", "LITIGATION", "AUDIT_OBJECTION", "INVESTIGATION", "APPRAISAL_PENDING", "CLASSIFIED_REVIEW")
_KINDS = ("post", "reply", "comment", "quote", "repost")


@dataclass(frozen=True, slots=True)
class Match:
    """Tokens in one field: one token (``prefix``: any token starting with it) or a phrase."""

    field: str
    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Union[Match, And, Or, Not]


# -- filters -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Filters:
    """Which records to keep. Empty tuples and None keep everything."""

    platform: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    author: tuple[str, ...] = ()  #: handles (without @) or author ids
    by_department: bool | None = None
    kind: tuple[str, ...] = ()
    date_from: date | None = None  #: first day, in Asia/Kolkata
    date_to: date | None = None  #: last day (included), in Asia/Kolkata
    language: tuple[str, ...] = ()
    rti: tuple[str, ...] = ()  #: yes, no, unmarked
    under_hold: bool | None = None
    hold_type: tuple[str, ...] = ()
    retention_class: tuple[str, ...] = ()
    deleted: bool | None = None  #: deleted on the platform
    versions: Literal["current", "all"] = "current"
    record_id: tuple[str, ...] = ()
    thread: str | None = None  #: the record_id of a thread's first post: it and every reply in it

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value in ((), None) or (name == "versions" and value == "current"):
                continue
            out[name] = value.isoformat() if isinstance(value, date) else list(value) if isinstance(value, tuple) else value
        return out

    def created_range_ms(self) -> tuple[int | None, int | None]:
        """The IST days as UTC epoch milliseconds: [start of date_from, start of the day after date_to)."""
        low = ist_day_bounds(self.date_from)[0] if self.date_from else None
        high = ist_day_bounds(self.date_to)[1] if self.date_to else None
        return low, high


def ist_day_bounds(day: date) -> tuple[int, int]:
    """UTC epoch milliseconds of the start of ``day`` and of the next day, in Asia/Kolkata."""
    start = datetime.combine(day, time(0), tzinfo=IST)
    end = start + timedelta(days=1)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


_FILTER_HELP = {
    "platform": f"one of {', '.join(PLATFORMS)}",
    "account": "an archived account, platform:native_id",
    "author": "an author's handle (without @) or id",
    "by": "department or citizen",
    "kind": f"one of {', '.join(_KINDS)}",
    "from": "a day in Asia/Kolkata, YYYY-MM-DD",
    "to": "a day in Asia/Kolkata, YYYY-MM-DD (included)",
    "language": "a language code such as en, hi",
    "rti": "yes, no or unmarked",
    "hold": "yes, no, or a hold type: " + ", ".join(HOLD_TYPES),
    "retention": "a retention class such as A, B, C-3, ephemeral",
    "deleted": "yes or no",
    "versions": "current or all",
    "record": "a record id, platform:native_id",
}


def parse_filters(items: Iterable[str]) -> Filters:
    """``Filters`` from ``key=value`` strings (``platform=x``, ``from=2025-08-01``, ``hold=LITIGATION``);
    a value may list several, separated by commas."""
    values: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        if not sep or not value.strip():
            raise SearchError(f"the filter {item!r} is not key=value. Write e.g. --filter platform=x; the keys are: {', '.join(_FILTER_HELP)}.")
        if name not in _FILTER_HELP:
            raise SearchError(f"there is no filter {name!r}. The filters are: " + "; ".join(f"{k} ({v})" for k, v in _FILTER_HELP.items()) + ".")
        values.setdefault(name, []).extend(v.strip() for v in value.split(",") if v.strip())
    out: dict[str, object] = {}
    for name, given in values.items():
        out.update(_one_filter(name, given))
    filters = Filters(**out)  # type: ignore[arg-type]
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise SearchError(f"the date range ends ({filters.date_to}) before it starts ({filters.date_from}); swap from= and to=.")
    return filters


def _yes_no(name: str, given: list[str]) -> bool:
    if len(set(given)) != 1 or given[0].lower() not in ("yes", "no", "true", "false"):
        raise SearchError(f"the filter {name}= takes yes or no, not {','.join(given)!r}.")
    return given[0].lower() in ("yes", "true")


def _day(name: str, given: list[str]) -> date:
    if len(given) != 1:
        raise SearchError(f"the filter {name}= takes one day, not {len(given)}.")
    try:
        return date.fromisoformat(given[0])
    except ValueError:
        raise SearchError(f"the filter {name}={given[0]!r} is not a day; write YYYY-MM-DD (a day in Asia/Kolkata), e.g. {name}=2025-08-01.") from None


def _choice(name: str, given: list[str], allowed: Sequence[str], fold: bool = True) -> tuple[str, ...]:
    picked = tuple(g.lower() if fold else g for g in given)
    wrong = [g for g in picked if g not in allowed]
    if wrong:
        raise SearchError(f"the filter {name}= does not take {', '.join(wrong)}; it takes {', '.join(allowed)}.")
    return picked


def _language_tag(given: str) -> str:
    """A language tag in the case platforms report it (BCP 47's): hi, hi-Latn, en-IN, whatever
    case it was typed in; the index keeps the tag as reported and compares exactly."""
    first, *rest = given.split("-")
    parts = [first.lower()]
    for part in rest:
        parts.append(part.title() if len(part) == 4 and part.isalpha() else part.upper() if len(part) == 2 else part.lower())
    return "-".join(parts)


def _one_filter(name: str, given: list[str]) -> dict[str, object]:
    if name == "platform":
        return {"platform": _choice(name, given, PLATFORMS)}
    if name == "account":
        return {"account": tuple(given)}
    if name == "author":
        return {"author": tuple(g.lstrip("@") for g in given)}
    if name == "by":
        picked = set(_choice(name, given, ("department", "citizen")))
        return {} if len(picked) == 2 else {"by_department": picked == {"department"}}
    if name == "kind":
        return {"kind": _choice(name, given, _KINDS)}
    if name == "from":
        return {"date_from": _day(name, given)}
    if name == "to":
        return {"date_to": _day(name, given)}
    if name == "language":
        return {"language": tuple(map(_language_tag, given))}
    if name == "rti":
        return {"rti": _choice(name, given, ("yes", "no", "unmarked"))}
    if name == "hold":
        lowered = {g.lower() for g in given}
        if lowered <= {"yes", "no", "true", "false"}:
            return {"under_hold": _yes_no(name, given)}
        return {"hold_type": _choice(name, [g.upper() for g in given], HOLD_TYPES, fold=False)}
    if name == "retention":
        return {"retention_class": tuple(g if g in ("A", "B") else g.upper() if g.lower().startswith("c-") else g.lower() for g in given)}
    if name == "deleted":
        return {"deleted": _yes_no(name, given)}
    if name == "versions":
        return {"versions": _choice(name, given, ("current", "all"))[0]}
    return {"record_id": tuple(given)}


# -- the request -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One page of a search. ``query`` None matches every record the filters keep."""

    query: Node | None = None
    filters: Filters = field(default_factory=Filters)
    sort: Literal["relevance", "newest", "oldest"] = "relevance"
    size: int = 20
    cursor: str | None = None
    facets: bool = False
    text: str = ""  #: the query as the user typed it, for messages

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise SearchError(f"there is no sort {self.sort!r}; use one of {', '.join(SORTS)}.")
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise SearchError(f"a page holds 1 to {MAX_PAGE_SIZE} hits, not {self.size}.")

    @property
    def effective_sort(self) -> str:
        # with nothing to rank by, relevance means newest first
        return "newest" if self.sort == "relevance" and self.query is None else self.sort

    def fingerprint(self) -> str:
        """What a cursor belongs to: the same query, filters and sort."""
        return content_hash({"q": repr(self.query), "f": self.filters.to_json(), "s": self.effective_sort})[:16]

    def after(self) -> list[object] | None:
        """The sort values of the last hit of the previous page, or None on the first page."""
        return decode_cursor(self.cursor, self.fingerprint()) if self.cursor else None

    def with_cursor(self, cursor: str | None) -> SearchRequest:
        return replace(self, cursor=cursor)


def encode_cursor(fingerprint: str, values: Sequence[object]) -> str:
    """An opaque cursor: the sort values of a page's last hit, bound to its search."""
    return base64.urlsafe_b64encode(orjson.dumps({"f": fingerprint, "a": list(values)})).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> list[object]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = data["a"]
        # the last hit's sort value and version id; FTS5's relevance adds the top rowid of its window
        if not isinstance(values, list) or len(values) not in (2, 3) or not isinstance(values[1], str) or (len(values) == 3 and not isinstance(values[2], int)):
            raise ValueError("shape")
    except (binascii.Error, orjson.JSONDecodeError, ValueError, KeyError, TypeError):
        raise SearchError("the cursor is damaged; start the search again from its first page (without --cursor).") from None
    if data.get("f") != fingerprint:
        raise SearchError("the cursor belongs to a different search (query, filters or sort changed); start again from the first page.")
    return values


# -- the parser ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: Literal["word", "phrase", "op", "(", ")"]
    text: str
    negated: bool = False
    prefix: bool = False


_OPERATORS = ("AND", "OR", "NOT")


def _lex(text: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            out.append(_Lexeme(char, char))  # type: ignore[arg-type]
            i += 1
        elif char == '"' or (char in "-+" and i + 1 < n and text[i + 1] == '"'):
            negated = char == "-"
            start = i + (2 if char in "-+" else 1)
            end = text.find('"', start)
            end = n if end == -1 else end  # an unclosed quote runs to the end
            out.append(_Lexeme("phrase", text[start:end], negated=negated))
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            word = text[i:j]
            i = j
            if word in _OPERATORS:
                out.append(_Lexeme("op", word))
                continue
            negated = word.startswith("-") and len(word) > 1
            word = word.lstrip("+-") if negated or word.startswith("+") else word
            prefix = word.endswith("*") and len(word.rstrip("*")) > 0
            out.append(_Lexeme("word", word.rstrip("*") if prefix else word, negated=negated, prefix=prefix))
    return out


class _Parser:
    def __init__(self, lexemes: list[_Lexeme], text: str) -> None:
        self.lexemes = lexemes
        self.pos = 0
        self.text = text
        self.words = 0

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.pos] if self.pos < len(self.lexemes) else None

    def parse(self) -> Node | None:
        node = self.or_expr(0)
        while self.peek() is not None:  # stray ")" or a dangling operator: skip it and go on
            self.pos += 1
            more = self.or_expr(0)
            node = _join(And, [n for n in (node, more) if n is not None])
        return node

    def or_expr(self, depth: int) -> Node | None:
        parts = [self.and_expr(depth)]
        while (lexeme := self.peek()) is not None and lexeme.kind == "op" and lexeme.text == "OR":
            self.pos += 1
            parts.append(self.and_expr(depth))
        present = [p for p in parts if p is not None]
        node = _join(Or, present)
        if isinstance(node, Or) and any(_only_excludes(child) for child in node.children):
            raise SearchError(
                f"in {self.text[:80]!r} an OR joins a part that only excludes (NOT or -): that cannot widen a search. "
                "Exclude words from the whole search instead, e.g. flood -relief."
            )
        return node

    def and_expr(self, depth: int) -> Node | None:
        parts: list[Node] = []
        while (lexeme := self.peek()) is not None:
            if lexeme.kind == ")" or (lexeme.kind == "op" and lexeme.text == "OR"):
                break
            if lexeme.kind == "op" and lexeme.text == "AND":
                self.pos += 1
                continue
            node = self.unary(depth)
            if node is not None:
                parts.append(node)
        return _join(And, parts)

    def unary(self, depth: int) -> Node | None:
        lexeme = self.peek()
        assert lexeme is not None
        if lexeme.kind == "op" and lexeme.text == "NOT":
            self.pos += 1
            if self.peek() is None or self.peek().kind in (")",) or (self.peek().kind == "op" and self.peek().text == "OR"):  # type: ignore[union-attr]
                return None  # a dangling NOT
            inner = self.unary(depth)
            return _negate(inner) if inner is not None else None
        if lexeme.kind == "(":
            if depth + 1 > MAX_DEPTH:
                raise SearchError(f"the query nests parentheses more than {MAX_DEPTH} deep; write it flatter.")
            self.pos += 1
            inner = self.or_expr(depth + 1)
            if (closing := self.peek()) is not None and closing.kind == ")":
                self.pos += 1
            return inner
        self.pos += 1
        if lexeme.kind == ")":
            return None
        node = self.word(lexeme)
        return _negate(node) if node is not None and lexeme.negated else node

    def word(self, lexeme: _Lexeme) -> Node | None:
        found = tokens(lexeme.text)
        if not found:
            return None
        self.words += len(found)
        if self.words > MAX_WORDS:
            raise SearchError(f"the query has more than {MAX_WORDS} words; search for fewer (the most telling ones) and filter the rest.")
        if lexeme.kind == "phrase" or not lexeme.prefix:
            return _text_match(tuple(found))
        if len(found[-1]) < 2:
            raise SearchError(f"the prefix {lexeme.text + '*'!r} is too short: give at least two letters before the *.")
        head = [_text_match(tuple(found[:-1]))] if len(found) > 1 else []
        return _join(And, [*head, _prefix_match(found[-1])])


def _negate(node: Node) -> Node:
    """NOT of a node, double negations undone: NOT -a is a; NOT (-a -b) is a OR b."""
    if isinstance(node, Not):
        return node.child
    excluded = [c.child for c in node.children if isinstance(c, Not)] if isinstance(node, And) else []
    if isinstance(node, And) and len(excluded) == len(node.children):
        joined = _join(Or, excluded)
        assert joined is not None
        return joined
    return Not(node)


def _join(kind: type[And] | type[Or], parts: list[Node]) -> Node | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    flat: list[Node] = []
    for part in parts:
        flat.extend(part.children if isinstance(part, kind) else (part,))
    return kind(tuple(flat))


def _only_excludes(node: Node) -> bool:
    if isinstance(node, Not):
        return True
    if isinstance(node, And):
        return all(_only_excludes(c) for c in node.children)
    if isinstance(node, Or):
        return any(_only_excludes(c) for c in node.children)
    return False


def _other_script_field(token: str) -> str:
    return "latn_keys" if is_devanagari(token) else "deva_keys"


def _text_match(found: tuple[str, ...]) -> Node:
    """The tokens in the text, or their keys among the other script's words."""
    exact = Match("terms", found)
    keys = [key(t) for t in found]
    fields = {_other_script_field(t) for t in found}
    if any(k is None for k in keys) or len(fields) != 1:
        return exact
    return Or((exact, Match(fields.pop(), tuple(k for k in keys if k))))


def _prefix_match(token: str) -> Node:
    exact = Match("terms", (token,), prefix=True)
    folded = key(token)
    if folded is None:
        return exact
    return Or((exact, Match(_other_script_field(token), (folded,), prefix=True)))


def parse_query(text: str) -> Node | None:
    """The query tree of what a user typed, or None for an empty query (every record).

    >>> parse_query('"flood relief" -camp')
    And(children=(Match(field='terms', tokens=('flood', 'relief'), prefix=False), Not(child=Match(field='terms', tokens=('camp',), prefix=False))))
    """
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(f"the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}. Search for a few telling words, and use --filter for the rest.")
    if not text.strip():
        return None
    lexemes = _lex(text)
    node = _Parser(lexemes, text).parse()
    if node is None:
        raise SearchError(f"{text[:80]!r} has no word to search for (only punctuation or operators). Give at least one word, or an empty query with --filter to list records.")
    return node


def positive_matches(node: Node | None) -> list[Match]:
    """The matches a hit may contain (those not under a NOT): what a snippet highlights."""
    if node is None:
        return []
    if isinstance(node, Match):
        return [node]
    if isinstance(node, Not):
        return []
    return [m for child in node.children for m in positive_matches(child)]
