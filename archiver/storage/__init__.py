"""Where published WARC files live: a ``Store`` with local-directory and S3 implementations.

A store publishes a closed file atomically (it is either wholly there under its key or not at
all), serves ranged reads for opening one record by its pointer, lists its keys, puts objects
under legal hold, and deletes only through one governed path (``delete``) that refuses locked or
held objects and is audited. ``S3Store`` writes to a bucket with Object Lock; it needs boto3
(``pip install 'sangrah[s3]'``) and is imported from ``archiver.storage.s3``.
"""

from archiver.storage.base import AuditFn, ObjectRetention, Store, sha256_of_file
from archiver.storage.local import LocalStore

__all__ = ["Store", "AuditFn", "ObjectRetention", "LocalStore", "sha256_of_file"]
