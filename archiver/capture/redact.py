"""Keep credentials out of WARC files.

A WARC file is evidence: it is kept for years, copied to WORM storage and handed out in RTI
disclosures. An access token, API key or cookie in it would outlive its own revocation in
places nobody can clean. So every credential is replaced by ``MARKER`` before a record is
built, and the writer runs ``redact_exchange`` on every exchange whatever the caller did.

What is redacted, and where:

- URLs: the values of query (and fragment) parameters with a credential name (``SECRET_PARAMS``)
  and the password of a ``user:password@`` part.
- Headers: the values of credential headers (``SECRET_HEADERS``; ``Authorization`` keeps its
  scheme, as ``Bearer SANGRAH-REDACTED``), and credential parameters in URL-valued headers
  (``Location``, ``Link``, ``Referer``, ...).
- Request bodies: credential parameters of a form-encoded body, and any credential value found
  above wherever it reappears.
- Response bodies stay byte-exact, with one exception: a credential value that the platform
  echoes back (Facebook's paging URLs embed the ``access_token`` of the request) is replaced,
  and the exchange is flagged ``redacted_body`` so the response record says so.

Usage::

    >>> redact_url("https://graph.facebook.com/v19.0/me/feed?access_token=EAAB12&limit=25")
    'https://graph.facebook.com/v19.0/me/feed?access_token=SANGRAH-REDACTED&limit=25'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, unquote_plus

import orjson

if TYPE_CHECKING:
    from archiver.capture.writer import Exchange

__all__ = [
    "MARKER",
    "SECRET_PARAMS",
    "SECRET_HEADERS",
    "redact_url",
    "redact_headers",
    "redact_exchange",
    "redact_known_secrets",
    "collect_secrets",
]

MARKER = "SANGRAH-REDACTED"
_MARKER_BYTES = MARKER.encode("ascii")

#: query and form parameter names whose values are credentials (compared lower-cased)
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "key",
        "api_key",
        "apikey",
        "token",
        "oauth_token",
        "client_secret",
        "password",
        "sig",
        "signature",
        "appsecret_proof",
        "code",
        "refresh_token",
    }
)

#: header names whose values are credentials (compared lower-cased)
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-goog-api-key",
    }
)

_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})

# Headers whose value is a URL (or, for Link, a list of <URL>s): the platform's paging and
# redirect URLs carry the request's token along.
_URL_HEADERS = frozenset({"location", "content-location", "referer", "origin", "link"})
_LINK_URL = re.compile(r"<([^>]*)>")

#: a value found in the request is also searched for in bodies only from this length on:
#: real credentials are long, and replacing a short value such as ``code=1`` everywhere would
#: deface the evidence for nothing
MIN_ECHOED_SECRET_CHARS = 8


def _param_name(name: str) -> str:
    # unquote_plus is slow, and parameter names are rarely encoded.
    if "%" in name or "+" in name:
        name = unquote_plus(name)
    return name.strip().lower()


def _redact_params(text: str, sep: str) -> str:
    """Redact ``name=value`` pairs of a query or form string, keeping order and encoding."""
    parts = text.split(sep)
    changed = False
    for i, part in enumerate(parts):
        name, eq, value = part.partition("=")
        if eq and value != MARKER and _param_name(name) in SECRET_PARAMS:
            parts[i] = f"{name}={MARKER}"
            changed = True
    return sep.join(parts) if changed else text


def _split_url(url: str) -> tuple[str, str, str, str, str, str]:
    """(before, authority, after, query, fragment, password) by plain string cuts.

    Plain cuts rather than ``urlsplit``/``urlunsplit``, which normalise ("http://a/?" loses its
    "?"): the URL in the record must be the one requested, only with credentials replaced.
    """
    rest, _, fragment = url.partition("#")
    base, _, query = rest.partition("?")
    start = base.find("//")
    before, authority, after = base, "", ""
    if start != -1:
        end = base.find("/", start + 2)
        end = len(base) if end == -1 else end
        before, authority, after = base[: start + 2], base[start + 2 : end], base[end:]
    password = ""
    if "@" in authority:
        userinfo = authority.rpartition("@")[0]
        password = userinfo.partition(":")[2]
    return before, authority, after, query, fragment, password


def redact_url(url: str) -> str:
    """The URL with credential parameters and any ``user:password@`` password replaced.

    Parameter order, the other parameters' encoding and the fragment are kept as given.
    """
    if "?" not in url and "#" not in url and "@" not in url:
        return url
    before, authority, after, query, fragment, password = _split_url(url)
    if password and password != MARKER:
        userinfo, _, hostport = authority.rpartition("@")
        authority = f"{userinfo.partition(':')[0]}:{MARKER}@{hostport}"
    new_query = _redact_params(query, "&") if query else query
    new_fragment = _redact_params(fragment, "&") if "=" in fragment else fragment
    if (new_query, new_fragment) == (query, fragment) and not (password and password != MARKER):
        return url
    out = before + authority + after
    if "?" in url.partition("#")[0]:
        out += "?" + new_query
    if "#" in url:
        out += "#" + new_fragment
    return out


def _url_secrets(url: str) -> list[str]:
    if "?" not in url and "#" not in url and "@" not in url:
        return []
    _, _, _, query, fragment, password = _split_url(url)
    found: list[str] = []
    for text in (query, fragment):
        for part in text.split("&"):
            name, eq, value = part.partition("=")
            if eq and _param_name(name) in SECRET_PARAMS:
                found += (value, unquote_plus(value))
    if password:
        found += (password, unquote_plus(password))
    return found


def _scan_headers(headers: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """The headers redacted, and the credential values they held (one pass for both)."""
    out: list[tuple[str, str]] = []
    found: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname in SECRET_HEADERS:
            if lname in _AUTH_HEADERS:
                scheme, space, credentials = value.strip().partition(" ")
                found.append(credentials.strip() if space else scheme)
                value = f"{scheme} {MARKER}" if space else MARKER
            else:
                found.append(value.strip())
                if lname in ("cookie", "set-cookie"):
                    # Cookie: a=1; b=2 holds several; Set-Cookie: a=1; Path=/ holds one.
                    pairs = value.split(";") if lname == "cookie" else value.split(";")[:1]
                    found.extend(pair.partition("=")[2].strip() for pair in pairs if "=" in pair)
                value = MARKER
        elif lname in _URL_HEADERS:
            if lname == "link":
                for url in _LINK_URL.findall(value):
                    found.extend(_url_secrets(url))
                value = _LINK_URL.sub(lambda m: f"<{redact_url(m.group(1))}>", value)
            else:
                found.extend(_url_secrets(value))
                value = redact_url(value)
        out.append((name, value))
    return out, found


def redact_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers with credential values replaced by ``MARKER``, in the same order.

    >>> redact_headers([("Authorization", "Bearer abc"), ("Accept", "*/*")])
    [('Authorization', 'Bearer SANGRAH-REDACTED'), ('Accept', '*/*')]
    """
    return _scan_headers(headers)[0]


def _clean(found: Iterable[str]) -> list[str]:
    values = set(found)
    values.discard("")
    values.discard(MARKER)
    return sorted(values, key=lambda v: (-len(v), v))


def collect_secrets(exchange: Exchange) -> list[str]:
    """The credential values an exchange carries in its URL and headers (before redaction).

    Used to find them again where they reappear (a form body, a paging URL in the response).
    """
    return _clean(
        [
            *_url_secrets(exchange.url),
            *_scan_headers(exchange.request_headers)[1],
            *_scan_headers(exchange.response_headers)[1],
        ]
    )


@lru_cache(maxsize=1024)
def _secret_forms(secret: str) -> frozenset[str]:
    """The strings a secret can appear as: raw, URL-encoded, inside a JSON string.

    Cached: a harvest sends the same token with every request.
    """
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)}
    json_form = orjson.dumps(secret).decode("utf-8")[1:-1]
    forms.add(json_form)
    forms.add(json_form.replace("/", "\\/"))
    forms.discard("")
    return frozenset(forms)


def _forms(secrets: Iterable[str]) -> list[str]:
    """Every form of every secret, longest first, so a secret that contains another goes whole."""
    forms: set[str] = set()
    for secret in secrets:
        if secret and secret != MARKER:
            forms |= _secret_forms(secret)
    return sorted(forms, key=lambda f: (-len(f), f))


def _replace_text(text: str, forms: Sequence[str]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, MARKER)
    return text


def _replace_in_values(headers: list[tuple[str, str]], forms: Sequence[str]) -> list[tuple[str, str]]:
    # One look over all values together first: almost always nothing is there.
    joined = "\n".join([v for _, v in headers])
    if not any(form in joined for form in forms):
        return headers
    return [(n, _replace_text(v, forms)) for n, v in headers]


def _replace_bytes(body: bytes, forms: Sequence[str]) -> bytes:
    for form in forms:
        encoded = form.encode("utf-8")
        if encoded in body:
            body = body.replace(encoded, _MARKER_BYTES)
    return body


def redact_known_secrets(body: bytes, secrets: Sequence[str]) -> bytes:
    """``body`` with every occurrence of each secret value replaced by ``MARKER``.

    Each secret is also looked for URL-encoded and JSON-escaped, the forms in which a platform
    echoes it back inside a paging URL. Every given non-empty value is replaced, whatever its
    length: pass only real credential values. Returns ``body`` itself when nothing matched.

    >>> redact_known_secrets(b'{"next": "https://x/?access_token=EAAB99"}', ["EAAB99"])
    b'{"next": "https://x/?access_token=SANGRAH-REDACTED"}'
    """
    return _replace_bytes(body, _forms(secrets))


def _redact_request_body(body: bytes, headers: Sequence[tuple[str, str]], forms: Sequence[str]) -> bytes:
    if not body:
        return body
    content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
    if content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            pass
        else:
            redacted = _redact_params(text, "&")
            body = body if redacted == text else redacted.encode("ascii")
    return _replace_bytes(body, forms)


def redact_exchange(exchange: Exchange, *, secrets: Sequence[str] = ()) -> Exchange:
    """The exchange with every credential replaced by ``MARKER``; see the module docstring.

    ``secrets`` are further credential values the caller knows (an app secret, a token sent
    some other way); they and the credentials found in the request are replaced in the request
    and response bodies. When the response body changes, ``redacted_body`` is set, and the
    response record then carries ``X-Sangrah-Redactions: response-body``. Found values shorter
    than ``MIN_ECHOED_SECRET_CHARS`` are redacted where they stand (a credential parameter of
    a form body included) but not searched for elsewhere. Applying it twice changes nothing
    more.
    """
    request_headers, found_request = _scan_headers(exchange.request_headers)
    response_headers, found_response = _scan_headers(exchange.response_headers)
    found = _clean([*_url_secrets(exchange.url), *found_request, *found_response])
    everywhere = _forms([*secrets, *(s for s in found if len(s) >= MIN_ECHOED_SECRET_CHARS)])
    url = redact_url(exchange.url)
    if everywhere:
        url = _replace_text(url, everywhere)
        request_headers = _replace_in_values(request_headers, everywhere)
        response_headers = _replace_in_values(response_headers, everywhere)
    request_body = _redact_request_body(exchange.request_body, exchange.request_headers, everywhere)
    response_body = _replace_bytes(exchange.response_body, everywhere)
    redacted_body = exchange.redacted_body or response_body is not exchange.response_body
    if (
        url == exchange.url
        and request_body is exchange.request_body
        and redacted_body == exchange.redacted_body
        and request_headers == list(exchange.request_headers)
        and response_headers == list(exchange.response_headers)
    ):
        return exchange
    ex = exchange
    # Built directly: dataclasses.replace() costs as much again as the redaction itself.
    return type(ex)(
        url=url,
        method=ex.method,
        request_headers=tuple(request_headers),
        request_body=request_body,
        status=ex.status,
        reason=ex.reason,
        response_headers=tuple(response_headers),
        response_body=response_body,
        started_at=ex.started_at,
        http_version=ex.http_version,
        ip_address=ex.ip_address,
        redacted_body=redacted_body,
        context=ex.context,
    )
