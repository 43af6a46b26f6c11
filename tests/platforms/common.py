"""What the platform tests share: payload folders, JSON strategies, the "a page or a
``PageParseError``" check, real payloads with one value replaced, and walks of the sample
platforms."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Page, Post
from archiver.platforms import get_platform
from archiver.samples import SampleServer, World
from archiver.samples.mastodon import Conversation
from archiver.samples.server import SampleRequest
from tests.walk import Walk, walk_platform

ROOT = Path(__file__).resolve().parents[2]
#: the recorded payloads of each platform, ``REALDATA / "bluesky"`` and so on
REALDATA = ROOT.parent / "shared" / "realdata"

Parse = Callable[[ApiRequest, bytes, Mapping[str, str]], Page]

#: any JSON value ``json.dumps`` writes: unbounded integers, infinite floats, short texts
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
#: any JSON value ``orjson.dumps`` writes: 64-bit integers and finite floats
ORJSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)  # type: ignore[arg-type, misc]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def by_id(page: Page) -> dict[str, Post]:
    return records_by_id(page.posts)


def records_by_id(posts: Iterable[Post]) -> dict[str, Post]:
    return {p.record_id.native_id: p for p in posts}


def real_payload_tests(platform: str, checks: Mapping[str, Callable[[str], None]], module_file: str) -> tuple[Callable[..., None], Callable[[], None]]:
    """Two tests, to bind to ``test_`` names in the platform's module (``module_file``): each
    recorded payload of ``platform`` passes its check in ``checks``, and each check has its payload."""
    folder = REALDATA / platform

    @pytest.mark.parametrize("name", sorted(p.name for p in folder.iterdir()))
    def real_payload(name: str) -> None:
        assert name in checks, f"realdata/{platform}/{name} is new: add a check for it to CHECKS in {Path(module_file).name}"
        checks[name](name)

    def every_check_has_its_payload() -> None:
        assert sorted(checks) == sorted(p.name for p in folder.iterdir())

    return real_payload, every_check_has_its_payload


def real_file_tests(platform: str, real_files: Mapping[str, Callable[[], None]]) -> tuple[Callable[[], None], Callable[..., None]]:
    """Two tests, to bind to ``test_`` names in the platform's module: every recorded payload of
    ``platform`` has a check in ``real_files``, and each check passes."""
    folder = REALDATA / platform

    def every_real_file_has_a_test() -> None:
        assert sorted(p.name for p in folder.iterdir()) == sorted(real_files)

    @pytest.mark.parametrize("name", sorted(real_files))
    def real_file(name: str) -> None:
        real_files[name]()

    return every_real_file_has_a_test, real_file


# -- bad input --------------------------------------------------------------------------------------


def refusal(parse: Parse, request: ApiRequest, body: bytes) -> PageParseError:
    """The ``PageParseError`` that ``parse`` raises for ``body`` (failing the test if it raises none)."""
    with pytest.raises(PageParseError) as caught:
        parse(request, body, {})
    return caught.value


def parses_or_refuses(parse: Parse, requests: Iterable[ApiRequest], body: bytes, headers: Mapping[str, str] | None = None) -> None:
    """Each request's parse of ``body`` gives a ``Page`` or raises ``PageParseError``, nothing else."""
    for request in requests:
        try:
            page = parse(request, body, headers or {})
        except PageParseError:
            continue
        assert isinstance(page, Page)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, prefix + (key,))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    result = value.copy()
    result[path[0]] = _replace(value[path[0]], path[1:], new)
    return result


class Payloads:
    """Recorded payloads of one platform, each with the request that fetched it, to mutate."""

    def __init__(self, folder: Path, requests: Mapping[str, ApiRequest]) -> None:
        self.requests = dict(requests)
        self.loaded = {name: orjson.loads((folder / name).read_bytes()) for name in self.requests}

    @cached_property
    def paths(self) -> dict[str, list[tuple[Any, ...]]]:
        return {name: list(_paths(value)) for name, value in self.loaded.items()}

    def draw_with_one_value_replaced(self, data: st.DataObject) -> tuple[ApiRequest, Any]:
        """A payload, one place in it (the whole, a key's value, an item) replaced by any JSON value."""
        name = data.draw(st.sampled_from(sorted(self.requests)))
        path = data.draw(st.sampled_from(self.paths[name]))
        return self.requests[name], _replace(self.loaded[name], path, data.draw(JSON))


def page_or_refusal_tests(
    parse: Parse,
    requests: list[ApiRequest],
    payloads: Payloads,
    headers: st.SearchStrategy[Mapping[str, str]] = st.just({}),
    payload_headers: Mapping[str, str] | None = None,
) -> tuple[Callable[..., None], ...]:
    """Three property tests, to bind to ``test_`` names in a platform's module: arbitrary bytes,
    arbitrary JSON (each with one of ``requests`` and ``headers``), and real ``payloads`` with
    one value replaced (with ``payload_headers``) each give a page or a ``PageParseError``."""

    @given(st.sampled_from(requests), st.binary(max_size=200), headers)
    def arbitrary_bytes(request: ApiRequest, body: bytes, drawn: Mapping[str, str]) -> None:
        parses_or_refuses(parse, [request], body, drawn)

    @given(st.sampled_from(requests), JSON, headers)
    def arbitrary_json(request: ApiRequest, value: Any, drawn: Mapping[str, str]) -> None:
        parses_or_refuses(parse, [request], json.dumps(value).encode(), drawn)

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def one_value_replaced(data: st.DataObject) -> None:
        request, mutated = payloads.draw_with_one_value_replaced(data)
        parses_or_refuses(parse, [request], json.dumps(mutated).encode(), payload_headers)

    return arbitrary_bytes, arbitrary_json, one_value_replaced


def only_page_parse_error_tests(parse: Parse, requests: Iterable[ApiRequest], pages: st.SearchStrategy[Any]) -> tuple[Callable[..., None], ...]:
    """Three property tests, to bind to ``test_`` names in a platform's module: arbitrary bytes,
    arbitrary JSON and JSON shaped like the platform's ``pages`` give every one of ``requests``
    a page or a ``PageParseError``."""
    every = tuple(requests)

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=200))
    def arbitrary_bytes(body: bytes) -> None:
        parses_or_refuses(parse, every, body)

    @settings(max_examples=300, deadline=None)
    @given(ORJSON)
    def arbitrary_json(value: Any) -> None:
        parses_or_refuses(parse, every, orjson.dumps(value))

    @settings(max_examples=500, deadline=None)
    @given(pages)
    def page_shaped_json(value: Any) -> None:
        parses_or_refuses(parse, every, orjson.dumps(value))

    return arbitrary_bytes, arbitrary_json, page_shaped_json


# -- the sample platforms ---------------------------------------------------------------------------


def count_listed(listing: Iterable[tuple[Conversation, int]]) -> tuple[int, int]:
    """How many records a listing of the sample world lists, and how many of them have replies."""
    listed = with_replies = 0
    for conv, key in listing:
        listed += 1
        with_replies += conv.reply_count(key) > 0
    return listed, with_replies


def walk_at(platform: str, posts: int, epoch: int) -> tuple[SampleServer, Walk]:
    server = SampleServer(World(seed=3, posts_per_account=posts)).start()
    server.set_epoch(epoch)
    return server, walk_platform(server, platform)


def walked(platform: str, posts: int, epoch: int) -> Any:
    """A module fixture: the sample server at ``epoch`` and a walk of ``platform`` through it."""

    @pytest.fixture(scope="module")
    def fixture() -> Iterator[tuple[SampleServer, Walk]]:
        server, walk = walk_at(platform, posts, epoch)
        yield server, walk
        server.stop()

    return fixture


def walk_before_and_after(platform: str, posts: int) -> tuple[set[str], World, Walk]:
    """The ids a walk captures at epoch 0, then the world of epoch 1 and a walk through it."""
    with SampleServer(World(seed=3, posts_per_account=posts)) as server:
        before = {p.record_id.native_id for p in walk_platform(server, platform).posts}
        server.set_epoch(1)
        return before, server.world, walk_platform(server, platform)


def serving(posts: int) -> Any:
    """A module fixture: the sample server, seed 3, ``posts`` posts per account."""

    @pytest.fixture(scope="module")
    def fixture() -> Iterator[SampleServer]:
        with SampleServer(World(seed=3, posts_per_account=posts)) as running:
            yield running

    return fixture


def assert_calls_within_a_tenth(walk: Walk, minimum: int) -> None:
    """The walk's calls per thousand records are at most 1.1 times the minimum's."""
    records = len({p.record_id for p in walk.posts})
    per_thousand, minimum_per_thousand = walk.calls * 1000 / records, minimum * 1000 / records
    assert per_thousand <= 1.1 * minimum_per_thousand, (walk.calls_by_endpoint, minimum)


def fetch(server: SampleServer, platform: str, request: ApiRequest) -> Page:
    """One call to the sample ``platform``, with its credential, parsed."""
    module = get_platform(platform)
    token = server.world.token(platform)
    bearer = module.AUTH.kind == "bearer"
    response = httpx.get(
        server.base_url(platform) + request.path,
        params=[*request.params, *([] if bearer else [(module.AUTH.param, token)])],
        headers={"Authorization": f"Bearer {token}"} if bearer else {},
    )
    assert response.status_code == 200, response.text[:200]
    return module.parse_page(request, response.content, dict(response.headers))


def graph_sample_request(platform: str, request: ApiRequest, token: str = "TOKEN") -> SampleRequest:
    """``request`` as the sample Facebook or Instagram receives it, with the access token."""
    query = {k: [v] for k, v in request.params}
    query["access_token"] = [token]
    return SampleRequest(request.path, query, {}, f"http://sample/{platform}", "http://sample")
