"""Parquet datasets derived from the WARC files: one row per post or reply version."""

from archiver.tables.schema import RECORD_SCHEMA, SCHEMA_VERSION, record_schema

__all__ = ["RECORD_SCHEMA", "SCHEMA_VERSION", "record_schema"]
