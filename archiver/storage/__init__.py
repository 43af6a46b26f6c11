"""Where published WARC files live: a ``Store`` with a local-directory implementation.

A store publishes a closed file atomically (it is either wholly there under its key or not at
all), serves ranged reads for opening one record by its pointer, lists its keys, and deletes only
through one governed path. An S3 implementation with Object Lock follows the same interface.
"""

from archiver.storage.local import LocalStore, Store

__all__ = ["Store", "LocalStore"]
