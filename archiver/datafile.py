"""Rule files a department edits (YAML checked by a JSON Schema), read with every problem named.

The retention schedule and the RTI timelines and fee tables are data that records officers and
RTI cells change, so a mistake in them must be reported the way a careful reviewer would: all
problems at once, each with its place and line in the file, the value found, what is allowed
and a hint. This module holds what those readers share: parsing that keeps line numbers, the
check of duplicate keys (YAML silently keeps the last), JSON Schema errors turned into
problems, and the message.

Usage::

    data, node = parse_yaml(text, source, FEES_FILE)
    problems = [*duplicate_keys(node), *schema_problems(data, schema, FIELDS)]
    if problems:
        raise ConfigError(describe(source, problems, node))
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from archiver.errors import ConfigError

__all__ = ["FileKind", "Problem", "describe", "duplicate_keys", "field_of", "line_of", "load_yaml", "location", "parse_yaml", "plain", "read_json_schema", "read_text", "schema_problems", "show"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a rule file: where (a path of keys and indices), what was found, what is allowed, a hint."""

    path: tuple[str | int, ...]
    found: str
    allowed: str
    hint: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class FileKind:
    """How messages name one kind of rule file.

    ``what``: "the retention schedule"; ``noun``: "schedule file"; ``short``: "the schedule";
    ``needs``: what an empty file lacks; ``shape``: what the top level must hold; ``layout``: how
    entries are laid out, for a YAML syntax error; ``default``: the file used when none is given.
    """

    what: str
    noun: str
    short: str
    needs: str
    shape: str
    layout: str
    default: Path


def read_text(path: Path, kind: FileKind) -> str:
    """The UTF-8 text of the rule file at ``path``."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read {kind.what} {path}: {exc.strerror}. "
            f"Give the path of an existing {kind.noun}, or none to use the default {kind.default}."
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); save {kind.short} as UTF-8.") from exc


def load_yaml(text: str, source: str, kind: FileKind) -> tuple[Any, yaml.Node | None]:
    """The YAML document in ``text`` and its node tree (for line numbers); (None, None) when empty.

    Only the syntax is checked here: what the document must hold is the caller's to say.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_yaml_message(source, exc, kind)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source} is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return data, node


def parse_yaml(text: str, source: str, kind: FileKind) -> tuple[dict[str, Any], yaml.Node]:
    """The YAML mapping in ``text`` as JSON would hold it, and its node tree (for line numbers)."""
    data, node = load_yaml(text, source, kind)
    if node is None or data is None:
        raise ConfigError(f"{source} is empty; {kind.needs}. Start from a copy of {kind.default}.")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with {kind.shape}, not {show(data)}.")
    return plain(data), node


def _yaml_message(source: str, exc: yaml.MarkedYAMLError, kind: FileKind) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    what = exc.problem or exc.context or "unreadable"
    if exc.context and exc.problem and exc.context_mark:
        what += f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
    return (
        f"{source} is not valid YAML{where}: {what}. Check the indentation there and on the line above "
        f"({kind.layout}), and quote text that contains ': ' or ' #'."
    )


def plain(value: Any) -> Any:
    """The YAML data as JSON would hold it: dates written YYYY-MM-DD."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def read_json_schema(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the JSON Schema {path}: {exc.strerror}; reinstall Sangrah.") from exc
    return loaded


#: a file's own handling of a schema error: its problems, or None for the common handling
SpecialCase = Callable[[Any, tuple[str | int, ...]], "list[Problem] | None"]


def schema_problems(
    data: Mapping[str, Any],
    schema: Mapping[str, Any],
    fields: Mapping[str, tuple[str, str]],
    doc: str,
    *,
    special: SpecialCase | None = None,
    name_of: Callable[[tuple[str | int, ...]], str] | None = None,
    hint_for: Callable[[str, Any], str | None] | None = None,
) -> Iterator[Problem]:
    """The JSON Schema errors of ``data`` as problems.

    ``fields`` maps a key to (what is allowed, a hint); ``doc`` is the page that explains every
    field. ``special`` turns the errors a file words itself into problems; ``name_of`` names the
    field of a path when its innermost key is not right (an entry of a list); ``hint_for`` gives
    a hint for one value when a better one than the field's exists.
    """
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        instance = error.instance
        own = special(error, path) if special else None
        if own is not None:
            yield from own
        elif error.validator == "required":
            for name in error.validator_value:
                if isinstance(instance, dict) and name not in instance:
                    allowed, hint = fields.get(name, ("a value", f"See {doc}."))
                    yield Problem((*path, name), "nothing", allowed, f"Add {name}. {hint}")
        elif error.validator == "additionalProperties":
            known = list(error.schema.get("properties", {}))
            for name in instance:
                if name not in known:
                    close = difflib.get_close_matches(str(name), known, n=1)
                    guess = f"Did you mean {close[0]}? " if close else ""
                    yield Problem((*path, name), "an unknown key", ", ".join(known), f"{guess}Check its spelling against {doc}.")
        else:
            name = name_of(path) if name_of else field_of(path)
            allowed, hint = fields.get(name, (f"see {doc}", f"See {doc}."))
            yield Problem(path, show(instance), allowed, (hint_for(name, instance) if hint_for else None) or hint)


def describe(source: str, problems: list[Problem], node: yaml.Node | None) -> str:
    """The message listing every problem once, in the order of the file (without a file,
    ``node`` is None: in the order given, without line numbers)."""
    unique: dict[tuple[str, str], tuple[int, Problem]] = {}
    for problem in problems:
        line = problem.line or (line_of(node, problem.path) if node is not None else 0)
        unique.setdefault((location(problem.path), problem.found), (line, problem))
    ordered = sorted(unique.values(), key=lambda item: item[0])
    lines = [f"{source} has {len(ordered)} problem(s):"]
    for line, problem in ordered:
        where = f" (line {line})" if line else ""
        lines.append(f"  - {location(problem.path)}{where}: found {problem.found}; allowed: {problem.allowed}. {problem.hint}")
    return "\n".join(lines)


def field_of(path: tuple[str | int, ...]) -> str:
    """The innermost key of ``path``: the field a problem is about."""
    return next((part for part in reversed(path) if isinstance(part, str)), "(top level)")


def location(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def show(value: Any) -> str:
    """A value as a message quotes it."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "an empty list" if not value else f"the list [{', '.join(show(item) for item in value)}]"
    return repr(value)


def line_of(node: yaml.Node, path: tuple[str | int, ...]) -> int:
    """The line of the deepest part of ``path`` present in the file (a missing key: its mapping)."""
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == part), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def duplicate_keys(node: yaml.Node, path: tuple[str | int, ...] = ()) -> Iterator[Problem]:
    """Keys written twice in one mapping: YAML keeps the last of two equal keys without a word."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            if key.value in seen:
                yield Problem(
                    (*path, key.value), f"{key.value} a second time", "each key once in a mapping",
                    "YAML would keep only the last one; delete the one you did not mean.", line=key.start_mark.line + 1,
                )
            seen.add(key.value)
            yield from duplicate_keys(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from duplicate_keys(item, (*path, index))
