"""WARC writing and reading: request/response/metadata records, rollover, digests, pointers.

``WarcWriter`` turns each HTTP exchange into a request and a response record (credentials
removed by ``redact``), rolls files over at a size limit and hands each closed, fsynced and
hashed file to its ``on_close``. ``iter_records``, ``read_record`` and ``verify_file`` read
them back by pointer and check every digest.
"""

from archiver.capture.reader import FileCheck, FileProblem, ReadRecord, iter_records, read_record, verify_file
from archiver.capture.redact import (
    MARKER,
    redact_exchange,
    redact_headers,
    redact_known_secrets,
    redact_url,
)
from archiver.capture.writer import (
    ClosedWarc,
    Exchange,
    ExchangeRecords,
    WarcWriter,
    WrittenRecord,
)

__all__ = [
    "WarcWriter",
    "Exchange",
    "WrittenRecord",
    "ExchangeRecords",
    "ClosedWarc",
    "ReadRecord",
    "FileCheck",
    "FileProblem",
    "iter_records",
    "read_record",
    "verify_file",
    "MARKER",
    "redact_url",
    "redact_headers",
    "redact_exchange",
    "redact_known_secrets",
]
