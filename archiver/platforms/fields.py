"""Typed access to the fields of a decoded page, for every platform module.

A parser asks a ``FieldReader`` for what it expects at a place in the page: an object at
``data[0]``, a count at ``items[3].statistics.viewCount``. Anything else becomes a
``PageParseError`` that names the platform, the call and the place, says what was found, and
ends with the platform's advice. The reader is bound to one request, so a parser passes only
the value and where it stands.

Usage::

    read = FieldReader("mastodon", request, "the instance's API differs from Mastodon's")
    status = read.obj(data, "the body")
    status_id = read.nonempty_string(status.get("id"), "the body.id")

The platform modules word their messages in one of two ways, and both are kept (``GOT``, the
default, and ``FOUND``; see ``Wording``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.errors import PageParseError
from archiver.model import ApiRequest
from archiver.platforms import parse_time

__all__ = ["FOUND", "GOT", "STRUCTURE_ERRORS", "FieldReader", "Wording"]

#: what a parser's slip on an unforeseen structure raises; ``FieldReader.unexpected`` reports it
STRUCTURE_ERRORS: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError)


@dataclass(frozen=True, slots=True)
class Wording:
    """The words of a reader's messages.

    ``found`` joins what was expected to what was found, ``null`` names a JSON null, ``count``
    and ``time`` name what an integer and a timestamp field should hold. ``bad_time`` reports a
    timestamp string that does not parse (``{value}`` is the string, ``{short}`` its first 40
    characters); ``time_errors`` are the errors of ``parse_time`` it covers. ``advice`` follows
    the place, with ``{hint}`` and ``{platform}`` filled in.
    """

    found: str
    null: str
    count: str
    time: str
    bad_time: str
    time_errors: tuple[type[Exception], ...]
    advice: str


#: "expected a list, got dict at feed. The response is kept in the WARC; if this repeats, {hint}: …"
#: (Bluesky, Mastodon, YouTube); a time too far out for UTC is left to ``STRUCTURE_ERRORS``
GOT = Wording(
    found="got", null="NoneType", count="a count", time="an ISO 8601 time",
    bad_time="expected an ISO 8601 time, got {value!r:.40}", time_errors=(ValueError,),
    advice=". The response is kept in the WARC; if this repeats, {hint}: compare the capture with the payloads "
    "named in archiver/platforms/{platform}.py and update its parser.",
)

#: "expected a list, found dict at data, which {hint} does not document. …" (X, Facebook, Instagram)
FOUND = Wording(
    found="found", null="null", count="an integer", time="a timestamp string",
    bad_time="the timestamp {short!r} is not ISO 8601", time_errors=(ValueError, OverflowError),
    advice=", which {hint} does not document. The page is kept in the WARC; re-run the harvest, and if this "
    "repeats, the API has changed and archiver/platforms/{platform}.py needs updating.",
)


class FieldReader:
    """Typed access to one decoded page; anything unexpected becomes a ``PageParseError``.

    ``hint`` is the platform's part of the advice (see ``Wording.advice``). With
    ``digit_counts``, a count may also be a string of ASCII digits, as YouTube's statistics are.
    """

    def __init__(self, platform: str, request: ApiRequest, hint: str, *, wording: Wording = GOT, digit_counts: bool = False) -> None:
        self.platform = platform
        self.request = request
        self.hint = hint
        self.wording = wording
        self.digit_counts = digit_counts

    def fail(self, where: str, problem: str) -> PageParseError:
        """The error for ``problem`` at ``where`` (empty: the page as a whole), to raise."""
        at = f" at {where}" if where else ""
        advice = self.wording.advice.format(hint=self.hint, platform=self.platform)
        return PageParseError(
            f"{self.platform} {self.request.endpoint} {self.request.path}: {problem}{at}{advice}",
            url=self.request.path,
        )

    def unexpected(self, exc: Exception) -> PageParseError:
        """The error for a structure the parser did not foresee (one of ``STRUCTURE_ERRORS``)."""
        return self.fail("the body", f"unexpected structure ({type(exc).__name__}: {exc})")

    def describe(self, value: Any) -> str:
        """What a value is, in a message: its type, or the wording's name for null."""
        return self.wording.null if value is None else type(value).__name__

    def _expected(self, where: str, what: str, value: Any) -> PageParseError:
        return self.fail(where, f"expected {what}, {self.wording.found} {self.describe(value)}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self._expected(where, "an object", value)
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self._expected(where, "a list", value)
        return value

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self._expected(where, "a string", value)
        return value

    def nonempty_string(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self._expected(where, "a non-empty string", value)
        return value

    def opt_string(self, value: Any, where: str) -> str | None:
        return None if value is None else self.string(value, where)

    def opt_int(self, value: Any, where: str) -> int | None:
        if value is None:
            return None
        if self.digit_counts and isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            if not self.digit_counts:
                raise self._expected(where, self.wording.count, value)
            # a count that may be a string is worth quoting: "got 'many'" says more than "got str"
            shown = "a boolean" if isinstance(value, bool) else f"{value!r:.40}"
            raise self.fail(where, f"expected {self.wording.count}, {self.wording.found} {shown}")
        return value

    def time(self, value: Any, where: str) -> datetime | None:
        """A timestamp (see ``parse_time``); None when the field is null or empty."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._expected(where, self.wording.time, value)
        try:
            return parse_time(value)
        except self.wording.time_errors as exc:
            raise self.fail(where, self.wording.bad_time.format(value=value, short=value[:40])) from exc

    def iter_objects(self, items: list[Any], where: str) -> Iterator[tuple[dict[str, Any], str]]:
        """Each item of the list at ``where`` as an object, with its own place, one at a time."""
        for n, value in enumerate(items):
            at = f"{where}[{n}]"
            yield self.obj(value, at), at
