"""Credentials never reach a WARC file."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path
from urllib.parse import quote, quote_plus

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.capture.reader import iter_records
from archiver.capture.redact import (
    MARKER,
    SECRET_PARAMS,
    collect_secrets,
    redact_exchange,
    redact_headers,
    redact_known_secrets,
    redact_url,
)
from archiver.capture.writer import Exchange
from tests.test_capture_writer import STARTED_AT, make_exchange, new_writer


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://graph.facebook.com/v19.0/me/feed?access_token=EAAB123&limit=25",
            "https://graph.facebook.com/v19.0/me/feed?access_token=SANGRAH-REDACTED&limit=25",
        ),
        (
            "https://www.googleapis.com/youtube/v3/search?part=snippet&KEY=AIzaSy123&q=%E0%A4%9C%E0%A4%B2",
            "https://www.googleapis.com/youtube/v3/search?part=snippet&KEY=SANGRAH-REDACTED&q=%E0%A4%9C%E0%A4%B2",
        ),
        (
            "https://x/cb?code=abc&state=s&Client_Secret=shh&appsecret_proof=p&sig=1&signature=2",
            "https://x/cb?code=SANGRAH-REDACTED&state=s&Client_Secret=SANGRAH-REDACTED"
            "&appsecret_proof=SANGRAH-REDACTED&sig=SANGRAH-REDACTED&signature=SANGRAH-REDACTED",
        ),
        ("https://x/a?api%5Fkey=k1&apikey=k2", "https://x/a?api%5Fkey=SANGRAH-REDACTED&apikey=SANGRAH-REDACTED"),
        ("https://x/a?token=&b=1", "https://x/a?token=SANGRAH-REDACTED&b=1"),
        ("https://x/a?password=p&refresh_token=r&oauth_token=o", "https://x/a?password=SANGRAH-REDACTED&refresh_token=SANGRAH-REDACTED&oauth_token=SANGRAH-REDACTED"),
        ("https://x/cb#access_token=frag&expires_in=3600", "https://x/cb#access_token=SANGRAH-REDACTED&expires_in=3600"),
        ("https://user:pa55@proxy.example:8080/p?x=1", "https://user:SANGRAH-REDACTED@proxy.example:8080/p?x=1"),
        ("https://x/a?keyword=water&tokens=3", "https://x/a?keyword=water&tokens=3"),
        ("https://x/a?", "https://x/a?"),
        ("https://x/a/b", "https://x/a/b"),
        ("https://x/a?key=1&key=2", "https://x/a?key=SANGRAH-REDACTED&key=SANGRAH-REDACTED"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact_url(expected) == expected


def test_redact_headers_keeps_order_and_the_auth_scheme() -> None:
    headers = [
        ("Accept", "application/json"),
        ("authorization", "Bearer AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("Cookie", "sid=abc; csrftoken=def"),
        ("X-API-Key", "k-123"),
        ("x-auth-token", "t-456"),
        ("X-Goog-Api-Key", "AIzaSyXYZ"),
        ("Authorization", "rawtokenwithoutscheme"),
        ("Set-Cookie", "sid=abc; Path=/; HttpOnly"),
        ("Location", "https://x/next?access_token=EAAB&after=2"),
        ("Link", '<https://x/p?page=2&key=K1>; rel="next", <https://x/p?page=9&key=K1>; rel="last"'),
        ("X-Rate-Limit-Remaining", "99"),
    ]
    assert redact_headers(headers) == [
        ("Accept", "application/json"),
        ("authorization", "Bearer SANGRAH-REDACTED"),
        ("Proxy-Authorization", "Basic SANGRAH-REDACTED"),
        ("Cookie", MARKER),
        ("X-API-Key", MARKER),
        ("x-auth-token", MARKER),
        ("X-Goog-Api-Key", MARKER),
        ("Authorization", MARKER),
        ("Set-Cookie", MARKER),
        ("Location", "https://x/next?access_token=SANGRAH-REDACTED&after=2"),
        (
            "Link",
            '<https://x/p?page=2&key=SANGRAH-REDACTED>; rel="next", <https://x/p?page=9&key=SANGRAH-REDACTED>; rel="last"',
        ),
        ("X-Rate-Limit-Remaining", "99"),
    ]


def test_facebook_paging_token_in_the_response_body_is_replaced_and_flagged() -> None:
    token = "EAABwzLixnjYBO7ZBZCk9ZA1ZCf0ZD"
    body = orjson.dumps(
        {
            "data": [{"id": "1_2", "message": "सड़क मरम्मत"}],
            "paging": {"next": f"https://graph.facebook.com/v19.0/1/feed?access_token={token}&after=QVFI"},
        }
    )
    ex = make_exchange(body=body, url=f"https://graph.facebook.com/v19.0/1/feed?access_token={token}&limit=25")
    out = redact_exchange(ex)
    assert token.encode() not in out.response_body
    assert out.response_body == body.replace(token.encode(), MARKER.encode())
    assert out.redacted_body is True
    assert out.url == "https://graph.facebook.com/v19.0/1/feed?access_token=SANGRAH-REDACTED&limit=25"
    # everything else stays byte-exact
    assert len(out.response_body) - len(body) == len(MARKER) - len(token)
    assert redact_exchange(out) == out


def test_unflagged_when_nothing_in_the_body_changed() -> None:
    ex = make_exchange(url="https://graph.facebook.com/v19.0/1/feed?access_token=EAABlongtoken99")
    out = redact_exchange(ex)
    assert out.response_body is ex.response_body
    assert out.redacted_body is False


def test_short_values_are_redacted_in_place_but_not_searched_for() -> None:
    """A `code=1` must not turn every "1" of the evidence into the marker."""
    ex = make_exchange(body=b'{"count": 1, "code": 1}', url="https://x/cb?code=1")
    out = redact_exchange(ex)
    assert out.url == "https://x/cb?code=SANGRAH-REDACTED"
    assert out.response_body == b'{"count": 1, "code": 1}'
    assert out.redacted_body is False


def test_request_body_loses_form_secrets_and_echoed_credentials() -> None:
    ex = Exchange(
        url="https://graph.facebook.com/oauth/access_token",
        method="POST",
        request_headers=[("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Bearer tokentoken42")],
        request_body=b"grant_type=fb_exchange_token&client_id=123&client_secret=s3cr3t&fb_exchange_token=tokentoken42",
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "application/json")],
        response_body=b'{"access_token": "newtoken", "token_type": "bearer"}',
        started_at=STARTED_AT,
    )
    out = redact_exchange(ex)
    assert out.request_body == (
        b"grant_type=fb_exchange_token&client_id=123&client_secret=SANGRAH-REDACTED&fb_exchange_token=SANGRAH-REDACTED"
    )
    assert out.request_headers == (
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Authorization", "Bearer SANGRAH-REDACTED"),
    )


def test_caller_known_secrets_reach_the_response_body() -> None:
    ex = make_exchange(body=b'{"debug": "app secret is 0123456789abcdef"}')
    out = redact_exchange(ex, secrets=["0123456789abcdef"])
    assert out.response_body == b'{"debug": "app secret is SANGRAH-REDACTED"}'
    assert out.redacted_body


def test_redact_known_secrets_finds_encoded_forms() -> None:
    secret = "123|ab/c+d=="
    body = (
        f'{{"a": "{secret}", "b": "{quote(secret, safe="")}", "c": "{quote_plus(secret)}", '
        f'"d": "{secret.replace("/", chr(92) + "/")}"}}'
    ).encode()
    out = redact_known_secrets(body, [secret])
    assert out == b'{"a": "SANGRAH-REDACTED", "b": "SANGRAH-REDACTED", "c": "SANGRAH-REDACTED", "d": "SANGRAH-REDACTED"}'
    assert redact_known_secrets(body, []) is body
    assert redact_known_secrets(body, [""]) is body


def test_collect_secrets_finds_every_credential() -> None:
    ex = make_exchange(
        url="https://x/a?access_token=urltoken1&b=2",
        request_headers=[("Authorization", "Bearer headertoken2"), ("Cookie", "sid=cookie3; theme=dark")],
        response_headers=[("Set-Cookie", "sid=cookie4; Path=/")],
    )
    found = collect_secrets(ex)
    for value in ("urltoken1", "headertoken2", "cookie3", "cookie4"):
        assert value in found


def test_writer_redacts_even_when_the_caller_did_not(tmp_path: Path) -> None:
    token = "EAABsecretsecretsecret"
    ex = make_exchange(
        url=f"https://graph.facebook.com/v19.0/me?access_token={token}",
        request_headers=[("Host", "graph.facebook.com"), ("Authorization", f"OAuth {token}")],
        body=f'{{"paging": {{"next": "https://graph.facebook.com/?access_token={token}"}}}}'.encode(),
    )
    with new_writer(tmp_path) as w:
        w.write_exchange(ex)
        closed = w.close()
    assert closed is not None
    raw = gzip.decompress(closed.path.read_bytes())
    assert token.encode() not in raw
    request, response = list(iter_records(closed.path, check_digests=True))[1:]
    assert request.header("X-Sangrah-Redactions") == "url, request-headers"
    assert response.header("X-Sangrah-Redactions") == "url, response-body"
    assert request.http_header("Authorization") == "OAuth SANGRAH-REDACTED"
    assert MARKER.encode() in response.payload


def test_records_without_credentials_say_nothing_about_redaction(tmp_path: Path) -> None:
    with new_writer(tmp_path) as w:
        w.write_exchange(make_exchange())
        closed = w.close()
    assert closed is not None
    for record in iter_records(closed.path):
        assert record.header("X-Sangrah-Redactions") is None


secrets = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._~|/+=", min_size=8, max_size=60)
padding = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,:{}[]\"", max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    secret=secrets,
    param=st.sampled_from(sorted(SECRET_PARAMS)).flatmap(
        lambda p: st.sampled_from([p, p.upper(), p.title()])
    ),
    header=st.sampled_from(["Authorization", "X-Api-Key", "Cookie", "x-goog-api-key", "X-Auth-Token"]),
    before=padding,
    after=padding,
    echo=st.sampled_from(["raw", "quoted", "plus", "json"]),
)
def test_no_secret_survives_the_writer(
    secret: str, param: str, header: str, before: str, after: str, echo: str
) -> None:
    encoded = {
        "raw": secret,
        "quoted": quote(secret, safe=""),
        "plus": quote_plus(secret),
        "json": orjson.dumps(secret).decode()[1:-1].replace("/", "\\/"),
    }[echo]
    value = f"Bearer {secret}" if header == "Authorization" else (f"sid={secret}" if header == "Cookie" else secret)
    ex = make_exchange(
        url=f"https://graph.facebook.com/v19.0/1/feed?limit=25&{param}={quote(secret, safe='')}&after=x",
        request_headers=[("Host", "graph.facebook.com"), (header, value)],
        response_headers=[("Content-Type", "application/json"), ("Link", f"<https://x/n?{param}={quote(secret, safe='')}>")],
        body=f'{{"next": "{before}https://x/?{param}={encoded}&{after}"}}'.encode(),
    )
    with tempfile.TemporaryDirectory() as tmp:
        with new_writer(Path(tmp)) as w:
            w.write_exchange(ex)
            closed = w.close()
        assert closed is not None
        request, response = list(iter_records(closed.path, check_digests=True))[1:]
    # What the exchange put in the file: target URIs, HTTP heads and bodies. (The writer's own
    # fields, such as "software" in warcinfo, are not the exchange's and may match by chance.)
    captured = b"\n".join(
        [request.block, response.block, (request.target_uri or "").encode(), (response.target_uri or "").encode()]
    )
    for form in {secret, quote(secret, safe=""), quote_plus(secret), encoded}:
        assert form.encode() not in captured, form
    assert captured.count(MARKER.encode()) >= 5  # URL twice, request header, Link, body
