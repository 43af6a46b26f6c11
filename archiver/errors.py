"""The one exception tree of Sangrah.

Every error a user can meet is an ``ArchiverError``. Its message says what went wrong, where,
and the next step; its fields (``account``, ``url``, ``warc_file``, ``offset``) let the CLI and
logs render it without parsing text. Foreign exceptions (httpx, SQLAlchemy, OS errors) are
wrapped once, at the boundary, with ``raise ... from exc``.

    ArchiverError
    ├── ConfigError
    ├── PlatformError                 (account, url, status)
    │   ├── AuthError                 401/403: credential missing, expired or not permitted
    │   ├── AccountGone               404 on the account itself
    │   ├── RateLimited               429 beyond the retry budget
    │   ├── PlatformUnavailable       5xx, timeouts, resets beyond the retry budget
    │   └── PageParseError            the body is not the page the platform documents
    ├── CaptureError                  (warc_file, offset)
    │   └── RecordDigestMismatch
    ├── ExtractionError               (warc_file, offset) a worker process parsing pages was lost
    ├── StoreError                    (key, endpoint, bucket)
    │   ├── ObjectLocked              retention or a legal hold forbids deleting or replacing it
    │   ├── ObjectMissing             no such object (or only a delete marker) under the key
    │   ├── BucketMissing             the configured bucket does not exist at the endpoint
    │   ├── StoreAuthError            the endpoint refused the credentials or the permission
    │   ├── StoreUnavailable          the endpoint cannot be reached, or timed out
    │   └── StoreChecksumMismatch     the bytes stored are not the bytes the manifest hashed
    ├── CatalogError                  (catalog, reason)
    ├── FixityMismatch                files that no longer match the manifest
    ├── SearchError
    ├── HoldActive
    ├── RtiError                      (request, field, rule): a request, event or decision refused
    │   └── DisclosureError           (record_id, rule): a review or package refused
    │       ├── ReviewIncomplete      a review set that cannot be packaged yet (R5)
    │       └── RedactionLeak         a produced file still holds a redacted string
    └── AccessDenied                  (user, command, roles): the acting user lacks the role
"""

from __future__ import annotations

__all__ = [
    "ArchiverError",
    "ConfigError",
    "PlatformError",
    "AuthError",
    "AccountGone",
    "RateLimited",
    "PlatformUnavailable",
    "PageParseError",
    "CaptureError",
    "RecordDigestMismatch",
    "ExtractionError",
    "StoreError",
    "ObjectLocked",
    "ObjectMissing",
    "BucketMissing",
    "StoreAuthError",
    "StoreUnavailable",
    "StoreChecksumMismatch",
    "CatalogError",
    "FixityMismatch",
    "SearchError",
    "HoldActive",
    "RtiError",
    "AccessDenied",
    "DisclosureError",
    "ReviewIncomplete",
    "RedactionLeak",
]


class ArchiverError(Exception):
    """Base of every error Sangrah raises on purpose."""

    #: short machine-readable kind, used in JSON output and the audit log
    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        fields = {k: v for k, v in vars(self).items() if k != "message" and v is not None}
        return {"error": self.kind, "message": self.message, **fields}


class ConfigError(ArchiverError):
    kind = "config"


class PlatformError(ArchiverError):
    kind = "platform"

    def __init__(
        self,
        message: str,
        *,
        account: str | None = None,
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.account = account
        self.url = url
        self.status = status


class AuthError(PlatformError):
    kind = "auth"


class AccountGone(PlatformError):
    kind = "account_gone"


class RateLimited(PlatformError):
    kind = "rate_limited"


class PlatformUnavailable(PlatformError):
    kind = "unavailable"


class PageParseError(PlatformError):
    """A response body that is not the page the platform documents.

    Parsers raise only this; ``excerpt`` holds at most a short start of the body, never the whole.
    """

    kind = "page_parse"

    def __init__(
        self,
        message: str,
        *,
        account: str | None = None,
        url: str | None = None,
        status: int | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(message, account=account, url=url, status=status)
        self.excerpt = excerpt


class CaptureError(ArchiverError):
    kind = "capture"

    def __init__(self, message: str, *, warc_file: str | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.warc_file = warc_file
        self.offset = offset


class RecordDigestMismatch(CaptureError):
    kind = "digest_mismatch"


class ExtractionError(ArchiverError):
    kind = "extraction"

    def __init__(self, message: str, *, warc_file: str | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.warc_file = warc_file
        self.offset = offset


class StoreError(ArchiverError):
    kind = "store"

    def __init__(self, message: str, *, key: str | None = None, endpoint: str | None = None, bucket: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.endpoint = endpoint
        self.bucket = bucket


class ObjectLocked(StoreError):
    """A deletion (or overwrite) refused because the object is under retention or a legal hold."""

    kind = "object_locked"

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        endpoint: str | None = None,
        bucket: str | None = None,
        mode: str | None = None,
        retain_until: str | None = None,
        legal_hold: bool | None = None,
    ) -> None:
        super().__init__(message, key=key, endpoint=endpoint, bucket=bucket)
        self.mode = mode
        self.retain_until = retain_until
        self.legal_hold = legal_hold


class ObjectMissing(StoreError):
    kind = "object_missing"


class BucketMissing(StoreError):
    kind = "bucket_missing"


class StoreAuthError(StoreError):
    kind = "store_auth"


class StoreUnavailable(StoreError):
    kind = "store_unavailable"


class StoreChecksumMismatch(StoreError):
    kind = "store_checksum"


class CatalogError(ArchiverError):
    """The catalog refused or failed an operation.

    ``catalog`` is its URL without the password; ``reason`` is set when the database itself
    failed (down, restarted, unreachable), as opposed to a request the catalog refused.
    """

    kind = "catalog"

    def __init__(self, message: str, *, catalog: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.catalog = catalog
        self.reason = reason


class FixityMismatch(ArchiverError):
    """Published files that no longer hash to what the manifest says; ``problems`` lists each."""

    kind = "fixity"

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems


class SearchError(ArchiverError):
    kind = "search"


class HoldActive(ArchiverError):
    kind = "hold_active"


class RtiError(ArchiverError):
    """An RTI request, event or decision that the rule book refuses.

    ``field`` names the input at fault (``received_at``, ``registration_no``, ``sections``),
    ``rule`` the provision that refuses it (``RTI s.7(8)``), ``request`` the registration number.
    """

    kind = "rti"

    def __init__(self, message: str, *, request: str | None = None, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.request = request
        self.field = field
        self.rule = rule


class AccessDenied(ArchiverError):
    """The acting user does not hold any role the command needs (R17)."""

    kind = "access_denied"

    def __init__(self, message: str, *, user: str | None = None, command: str | None = None, roles: tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        self.user = user
        self.command = command
        self.roles = list(roles) if roles is not None else None


class DisclosureError(RtiError):
    """A review or disclosure package that breaks a rule; ``rule`` cites it (e.g. ``RTI s.8(3)``)."""

    kind = "disclosure"

    def __init__(self, message: str, *, record_id: str | None = None, rule: str | None = None, request: str | None = None) -> None:
        super().__init__(message, request=request, rule=rule)
        self.record_id = record_id


class ReviewIncomplete(DisclosureError):
    """Every problem of a review set at once, each naming its record and rule (``problems``)."""

    kind = "review_incomplete"

    def __init__(self, message: str, *, problems: tuple[str, ...] = (), record_id: str | None = None, rule: str | None = None, request: str | None = None) -> None:
        super().__init__(message, record_id=record_id, rule=rule, request=request)
        self.problems = problems


class RedactionLeak(DisclosureError):
    kind = "redaction_leak"


def excerpt(body: bytes, limit: int = 120) -> str:
    """A short, printable start of a response body for an error message."""
    text = body[:limit].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text + ("…" if len(body) > limit else "")
