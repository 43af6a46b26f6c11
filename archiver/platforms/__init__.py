"""One module per platform: build requests, follow pagination, parse a page into records.

Each platform module exposes the same module-level names (see ``PlatformModule``). Parsing is
pure: ``parse_page(request, body, headers)`` takes bytes and returns a ``Page``, with no network,
clock or disk, and raises only ``PageParseError``. The fetch loop lives in ``archiver.harvest``.

How a harvest walks a platform: it starts from ``first_requests(account)``; each response is
parsed into a ``Page`` whose ``next`` continues the same listing and whose ``follow_ups`` are the
further calls it makes necessary (replies of its posts, more comments, video details). Calls
whose ``endpoint`` is in ``LISTING_ENDPOINTS`` list the account's own posts newest first; an
incremental harvest stops paging them once it reaches posts it has already captured and that
lie outside the revisit window.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from types import ModuleType
from typing import Any, Literal, Protocol, cast

import orjson

from archiver.errors import PageParseError, excerpt
from archiver.model import ApiRequest, Page

__all__ = [
    "AccountRef",
    "Auth",
    "PlatformModule",
    "get_platform",
    "load_json",
    "parse_time",
]


@dataclass(frozen=True, slots=True)
class AccountRef:
    """The account a harvest is about, as the platform names it."""

    platform: str
    native_id: str
    handle: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.native_id}"

    def label(self) -> str:
        return f"{self.key} (@{self.handle})" if self.handle else self.key


@dataclass(frozen=True, slots=True)
class Auth:
    """How a credential travels: a bearer header, or a query parameter named ``param``."""

    kind: Literal["bearer", "query"]
    param: str = ""


class PlatformModule(Protocol):
    NAME: str
    AUTH: Auth
    DEFAULT_BASE_URL: str
    LISTING_ENDPOINTS: frozenset[str]

    def first_requests(self, account: AccountRef) -> list[ApiRequest]: ...

    def parse_page(self, request: ApiRequest, body: bytes, headers: Mapping[str, str]) -> Page: ...


def get_platform(name: str) -> PlatformModule:
    """The platform module for ``name`` ("x", "facebook", ...)."""
    from archiver.model import PLATFORMS

    if name not in PLATFORMS:
        raise KeyError(f"unknown platform {name!r}; known: {', '.join(PLATFORMS)}")
    module: ModuleType = importlib.import_module(f"archiver.platforms.{name}")
    return cast(PlatformModule, module)


def load_json(body: bytes, request: ApiRequest, platform: str) -> Any:
    """Decode a JSON body, or raise ``PageParseError`` naming the call and quoting its start."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        kind = "an HTML page" if body.lstrip()[:1] == b"<" else "malformed or truncated JSON"
        raise PageParseError(
            f"{platform} {request.endpoint} {request.path}: the response is {kind}, not the JSON page "
            f"the API documents ({exc}). The capture is kept in the WARC; retry the harvest, and if it "
            "persists check the platform's status page.",
            url=request.path,
            excerpt=excerpt(body),
        ) from exc


def parse_time(value: Any) -> datetime | None:
    """Parse a platform timestamp (ISO 8601 with Z or offset, or epoch seconds) into UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Facebook writes offsets without a colon: 2021-07-21T02:47:28+0000
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header look-up over any mapping."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
