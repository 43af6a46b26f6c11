"""RTI relevance rules: records a department expects RTI requests about, marked at indexing.

The rules are data a records officer edits (``schemas/rti_rules.yaml``, checked against
``schemas/rti_rules.schema.json``; every problem is reported at once with its place and line).
A rule matches a record when every condition it gives holds: a keyword or phrase in its text
(matched on the same folded tokens search uses), its account, one of its hashtags, and the day
it was posted (Asia/Kolkata) inside ``from``..``to``. ``fingerprint`` changes whenever the rules
or the way they are matched change, so that the indexer knows to apply them to every record
again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from archiver.errors import ConfigError
from archiver.model import content_hash
from archiver.search.analysis import analyzed, tokens
from archiver.search.query import ist_day_bounds

__all__ = ["DEFAULT_RULES_PATH", "RULES_SCHEMA_PATH", "MATCH_VERSION", "Rule", "RuleBook", "load_rules", "parse_rules"]

_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
DEFAULT_RULES_PATH = _SCHEMAS / "rti_rules.yaml"
RULES_SCHEMA_PATH = _SCHEMAS / "rti_rules.schema.json"
#: part of the fingerprint: raise it whenever matching (or the analysis it uses) changes
MATCH_VERSION = 1


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str
    phrases: tuple[str, ...] = ()  #: analysed keywords, " tok tok " with spaces around
    accounts: frozenset[str] = frozenset()
    hashtags: frozenset[str] = frozenset()  #: analysed, without #
    day_from: date | None = None
    day_to: date | None = None
    low_ms: int | None = field(init=False, default=None)  #: day_from's start as UTC epoch milliseconds
    high_ms: int | None = field(init=False, default=None)  #: the start of the day after day_to

    def __post_init__(self) -> None:
        object.__setattr__(self, "low_ms", ist_day_bounds(self.day_from)[0] if self.day_from else None)
        object.__setattr__(self, "high_ms", ist_day_bounds(self.day_to)[1] if self.day_to else None)

    def matches(self, padded_terms: str, account: str, hashtags: frozenset[str], created_ms: int | None) -> bool:
        if self.accounts and account not in self.accounts:
            return False
        if self.day_from or self.day_to:
            if created_ms is None:
                return False
            if (self.low_ms is not None and created_ms < self.low_ms) or (self.high_ms is not None and created_ms >= self.high_ms):
                return False
        if self.hashtags and not self.hashtags & hashtags:
            return False
        if self.phrases and not any(p in padded_terms for p in self.phrases):
            return False
        return True


@dataclass(frozen=True, slots=True)
class RuleBook:
    rules: tuple[Rule, ...]
    source: str
    fingerprint: str

    def matching(self, terms: str, account: str, hashtags: list[str] | tuple[str, ...], created_ms: int | None) -> list[str]:
        """Ids of the rules a record matches; ``terms`` is its analysed text, ``created_ms`` when it
        was posted (UTC epoch milliseconds)."""
        padded = f" {terms} "
        tags = frozenset(map(_tag, hashtags)) if hashtags else frozenset()
        return [rule.id for rule in self.rules if rule.matches(padded, account, tags, created_ms)]

    def describe(self, rule_id: str) -> str:
        return next((r.description for r in self.rules if r.id == rule_id), rule_id)


@lru_cache(maxsize=50_000)
def _tag(hashtag: str) -> str:
    return analyzed(hashtag)


def load_rules(path: Path | None = None) -> RuleBook:
    """Read and check the rules at ``path`` (``schemas/rti_rules.yaml`` when None)."""
    path = DEFAULT_RULES_PATH if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the RTI rules {path}: {exc.strerror}. Give an existing file as search.rti_rules, or none for {DEFAULT_RULES_PATH}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); save the rules as UTF-8.") from exc
    return parse_rules(text, source=str(path))


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(RULES_SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def parse_rules(text: str, source: str = "the RTI rules") -> RuleBook:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{source} is not valid YAML{where}: {exc.problem or exc.context}. Check the indentation there, and quote text that contains ': ' or ' #'.") from exc
    except ValueError as exc:  # YAML read a date that does not exist, such as 2025-13-01
        raise ConfigError(f"{source} has a day that does not exist ({exc}); write real days as YYYY-MM-DD.") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict) or node is None:
        raise ConfigError(f"{source} must be a mapping with version: 1 and a list of rules; start from a copy of {DEFAULT_RULES_PATH}.")
    data = _plain(data)
    problems = list(_problems(data, node))
    if problems:
        raise ConfigError(f"{source} has {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    rules = tuple(_rule(item) for item in data["rules"])
    return RuleBook(rules=rules, source=source, fingerprint=content_hash({"match": MATCH_VERSION, "rules": data["rules"]}))


def _problems(data: dict[str, Any], node: yaml.Node) -> Iterator[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in sorted(validator.iter_errors(data), key=lambda e: _line_of(node, tuple(e.absolute_path))):
        path = tuple(error.absolute_path)
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[") or "(top level)"
        line = _line_of(node, path)
        if error.validator == "additionalProperties":
            known = ", ".join(error.schema.get("properties", {}))
            yield f"{where} (line {line}): {error.message}; the keys allowed here are {known}."
        elif error.validator == "minProperties":
            yield f"{where} (line {line}): a rule needs at least one condition: keywords, accounts, hashtags, or from/to."
        elif error.validator == "pattern" and path and path[-1] == "id":
            yield f"{where} (line {line}): {error.instance!r} is not an id; use lower case letters, digits and -, e.g. flood-relief."
        elif error.validator == "pattern" and len(path) >= 2 and path[-2] == "accounts":
            yield f"{where} (line {line}): {error.instance!r} is not an account; write platform:native_id, e.g. x:1350000000000000001."
        elif error.validator == "format":
            yield f"{where} (line {line}): {error.instance!r} is not a day; write YYYY-MM-DD in quotes, e.g. \"2025-08-01\"."
        else:
            yield f"{where} (line {line}): {error.message}."
    seen: dict[str, int] = {}
    for index, item in enumerate(data.get("rules") or []):
        if not isinstance(item, dict):
            continue
        rule_id = item.get("id")
        if isinstance(rule_id, str):
            if rule_id in seen:
                yield f"rules[{index}].id (line {_line_of(node, ('rules', index, 'id'))}): {rule_id!r} is also the id of rules[{seen[rule_id]}]; each mark names its rule by id, so rename one."
            seen.setdefault(rule_id, index)
        if isinstance(item.get("from"), str) and isinstance(item.get("to"), str) and item["from"] > item["to"]:
            yield f"rules[{index}] (line {_line_of(node, ('rules', index))}): to ({item['to']}) is before from ({item['from']}); swap them."
        for keyword in item.get("keywords") or []:
            if isinstance(keyword, str) and not tokens(keyword):
                yield f"rules[{index}].keywords (line {_line_of(node, ('rules', index, 'keywords'))}): {keyword!r} has no word in it; give words or a phrase."


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    return value


def _line_of(node: yaml.Node, path: tuple[str | int, ...]) -> int:
    """The line (1-based) of the value at ``path``, or of the nearest enclosing one."""
    current = node
    for part in path:
        if isinstance(current, yaml.MappingNode):
            found = next((v for k, v in current.value if k.value == part), None)
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            found = current.value[part]
        else:
            found = None
        if found is None:
            break
        current = found
    return current.start_mark.line + 1


def _rule(item: dict[str, Any]) -> Rule:
    return Rule(
        id=item["id"],
        description=item["description"],
        phrases=tuple(f" {analyzed(k)} " for k in item.get("keywords", [])),
        accounts=frozenset(item.get("accounts", [])),
        hashtags=frozenset(analyzed(h) for h in item.get("hashtags", [])),
        day_from=date.fromisoformat(item["from"]) if item.get("from") else None,
        day_to=date.fromisoformat(item["to"]) if item.get("to") else None,
    )
