"""The record table's Arrow schema, read from ``schemas/record.schema.json``.

The JSON file is the one definition: names, types, nullability, a description per field and
the schema's version. This module turns its type strings (``string``, ``int64``, ``date32``,
``timestamp[us, tz=UTC]``, ``list<…>``, ``struct<name: type, …>``, ``map<k, v>``) into pyarrow
types, and ``docs/record-schema.md`` is generated from the same file.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = ["SCHEMA_FILE", "record_schema", "parse_type", "schema_description", "render_schema_doc", "RECORD_SCHEMA", "SCHEMA_VERSION"]

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "record.schema.json"

_SIMPLE = {
    "string": pa.string(),
    "bool": pa.bool_(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "date32": pa.date32(),
    "timestamp[us, tz=UTC]": pa.timestamp("us", tz="UTC"),
}


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside <…> or […]."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "<[":
            depth += 1
        elif char in ">]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse_type(text: str) -> pa.DataType:
    """The pyarrow type a type string of the schema file names.

    >>> parse_type("list<string>")
    ListType(list<item: string>)
    """
    text = text.strip()
    if text in _SIMPLE:
        return _SIMPLE[text]
    if text.startswith("list<") and text.endswith(">"):
        return pa.list_(parse_type(text[5:-1]))
    if text.startswith("map<") and text.endswith(">"):
        key, value = _split_top(text[4:-1])
        return pa.map_(parse_type(key), parse_type(value))
    if text.startswith("struct<") and text.endswith(">"):
        fields = []
        for part in _split_top(text[7:-1]):
            name, _, kind = part.partition(":")
            fields.append(pa.field(name.strip(), parse_type(kind)))
        return pa.struct(fields)
    raise ValueError(f"{SCHEMA_FILE.name}: unknown type {text!r}")


@cache
def schema_description() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@cache
def record_schema() -> pa.Schema:
    description = schema_description()
    fields = [
        pa.field(f["name"], parse_type(f["type"]), nullable=f["nullable"], metadata={"description": f["description"]})
        for f in description["fields"]
    ]
    return pa.schema(fields, metadata={"name": description["name"], "schema_version": str(description["schema_version"])})


RECORD_SCHEMA = record_schema()
SCHEMA_VERSION: int = int(schema_description()["schema_version"])


def render_schema_doc() -> str:
    """docs/record-schema.md, generated from the schema file (``python -m archiver.tables.schema``)."""
    description = schema_description()
    lines = [
        "# The record table",
        "",
        f"Schema `{description['name']}`, version {description['schema_version']}. Generated from `schemas/record.schema.json` "
        "by `python -m archiver.tables.schema`; a test keeps it current.",
        "",
        description["description"],
        "",
        "The dataset lives in `DATA_DIR/tables/records/`, partitioned as `platform=…/account=…/month=YYYY-MM/` "
        "(the account's native id, URL-encoded; the month of `created_at` in UTC). Open it with DuckDB:",
        "",
        "```sql",
        "SELECT platform, kind, count(*) FROM read_parquet('sangrah-data/tables/records/**/*.parquet', hive_partitioning = true)",
        "GROUP BY ALL ORDER BY ALL;",
        "```",
        "",
        "or with pyarrow: `pyarrow.dataset.dataset('sangrah-data/tables/records', format='parquet', partitioning='hive')`.",
        "",
        "| column | type | empty? | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for f in description["fields"]:
        kind = f["type"].replace("|", "\\|")
        lines.append(f"| `{f['name']}` | `{kind}` | {'yes' if f['nullable'] else 'no'} | {f['description']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_schema_doc(), end="")
