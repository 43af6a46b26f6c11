"""A minimal walk over a sample platform, for tests of a platform module with its renderer.

It is not the harvester (that is ``archiver.harvest``): no WARC, no cursor, no retry. It follows
``first_requests`` → ``parse_page`` → ``next`` and ``follow_ups`` depth first, exactly as the
harvester does, and returns every post seen and the number of API calls made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from archiver.model import ApiRequest, Post
from archiver.platforms import AccountRef, get_platform
from archiver.samples.server import SampleServer


@dataclass
class Walk:
    posts: list[Post] = field(default_factory=list)
    calls: int = 0
    calls_by_endpoint: dict[str, int] = field(default_factory=dict)


def walk_platform(server: SampleServer, platform: str, *, max_calls: int = 100_000) -> Walk:
    module = get_platform(platform)
    sample = server.world.account(platform)
    account = AccountRef(platform, sample.native_id, sample.handle)
    token = server.world.token(platform)
    base = server.base_url(platform)
    stack: list[ApiRequest] = list(reversed(module.first_requests(account)))
    result = Walk()
    with httpx.Client(timeout=10) as client:
        while stack:
            request = stack.pop()
            params: list[tuple[str, str | int | float | bool | None]] = list(request.params)
            headers: dict[str, str] = {}
            if module.AUTH.kind == "bearer":
                headers["Authorization"] = f"Bearer {token}"
            else:
                params.append((module.AUTH.param, token))
            response = client.get(base + request.path, params=params, headers=headers)
            result.calls += 1
            result.calls_by_endpoint[request.endpoint] = result.calls_by_endpoint.get(request.endpoint, 0) + 1
            assert response.status_code == 200, (request, response.status_code, response.text[:300])
            page = module.parse_page(request, response.content, dict(response.headers))
            result.posts.extend(page.posts)
            if page.next is not None:
                stack.append(page.next)
            stack.extend(reversed(page.follow_ups))
            if result.calls > max_calls:
                raise AssertionError("walk did not end")
    return result
