"""``html_to_text``'s fast path gives exactly what ``html.parser`` gives (``html_to_text_parsed``),
on every real payload, on what the sample platforms send, on nasty markup and on markup drawn at
random from the pieces that trip parsers; and it is the fast path that handles the platforms'
markup, not the parser it falls back to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.platforms import text
from archiver.platforms.text import html_to_text, html_to_text_parsed
from archiver.samples import World
from archiver.samples.mastodon import _content
from archiver.samples.youtube import _display
from tests.platforms.common import REALDATA

NASTY = [
    "",
    "plain text, no markup",
    "\n\nline\n\n",
    "Water &amp; power &lt;b&gt; &quot;q&quot; &#39;s &#x0928;&#x092e;&#x0938;&#x094d;&#x0924;&#x0947; &nbsp;x",
    "&amp &ampx &notit; &notin; &#0; &#xD800; &#1114112; &unknown; & &; &#; &#x;",
    "tail entity &amp",
    "tail entity cut &am",
    "<p>नमस्ते, जल शक्ति विभाग</p><p>बाढ़ राहत <a href=\"https://x.in/\">हेल्पलाइन</a> १०७०</p>",
    "<p>a</p><p>b</p><p></p><p>c<br>d<br/>e<br />f<BR>g</p>",
    "<p><br></p><p>\n</p>x<br><br>",
    "<br>lead<br>",
    "<ul><li>one</li><li>two</li></ul><ol><li>three</ol>",
    "<li>first</li>",
    "<blockquote><p>quoted</p></blockquote><pre>pre\n  formatted</pre><h1>H</h1><h6>six</h6>",
    "<p>nested <b><i><span class=\"x\">deep <em>er</em></span></i></b> end</p>",
    '<a href="https://example.org/a?b=1&amp;c=2" class="mention hashtag" rel="tag">#<span>Tag</span></a>',
    '<span class="invisible">https://</span><span class="ellipsis">example.org/very/long/pa</span><span class="invisible">th</span>',
    "<P CLASS='x'>Upper</P><Br>case",
    "<p\nclass=\"a\"\tid='b' hidden>spaced attributes</p >",
    "<p data-x=\"1\" aria-label='2' translate=\"no\" itemscope>attributes</p>",
    "<p class=unquoted>unquoted attribute</p>",
    '<p title="a > b">greater than in an attribute</p>',
    "<p>a < b and c > d</p>",
    "1 <2 and 3>2",
    "<<p>>double",
    "<p>unclosed <b>bold",
    "</p>end tag first<p>",
    "<p>broken <a href=\"x\"",
    "<p>broken <a href='x>y</a>",
    "<!-- a comment --><p>after comment</p><!---->",
    "<!DOCTYPE html><p>doctype</p>",
    "<?xml version=\"1.0\"?><p>processing instruction</p>",
    "<![CDATA[cdata]]><p>x</p>",
    "<script>var a = '<p>not markup</p>' &amp;</script><p>after script</p>",
    "<style>p { color: red }</style>styled",
    "<textarea><p>raw</p></textarea>t",
    "<title>&amp;title</title>",
    "</script>stray end",
    "<p>a</ p>b</p >c</P>",
    "<my-tag>custom</my-tag><x:y>ns</x:y>",
    "<p/>self-closing block<li/>item",
    "<p / >odd self-closing",
    "<img src=\"a.png\" alt=\"&amp;\"/>image",
    "text\r\nwith\rcarriage returns<br>\r\n",
    "<p>\u00a0non-breaking\u00a0</p><p\u00a0class=\"x\">nbsp in a tag</p>",
    "<p>emoji 🌊🙏 and zero width \u200b joiner</p>",
    "<p>trailing newlines\n\n</p>\n\n<p>\n\nleading newlines</p>",
    "</>empty end</ >",
    "<a>",
    "<",
    ">",
    "&",
]

#: pieces of markup, drawn at random into strings that html.parser and the fast path must agree on
PIECES = [
    "<p>", "</p>", "<br>", "<br/>", "<br />", "<li>", "</li>", "<ul>", "<h2>", "<pre>", "<b>", "</b>",
    '<a href="https://x.in/?a=1&amp;b=2">', "</a>", '<span class="invisible">', "</span>", "<P>", "<Br>",
    "<p class=x>", "<!-- c -->", "<script>", "</script>", "<style>", "<title>", "<", ">", "</", "/>", "<p ", '"', "'",
    "&amp;", "&lt;", "&gt;", "&#39;", "&#x92e;", "&nbsp", "&amp", "&", ";", "#", "\n", "\n\n", " ", "\r\n",
    "text", "नमस्ते", "१०७०", "🌊", "x=y",
]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        if value.lstrip().startswith(("{", "[")):
            try:
                yield from _strings(json.loads(value))
            except ValueError:
                pass
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _real_strings() -> list[str]:
    found: list[str] = []
    for path in sorted(REALDATA.rglob("*")):
        if path.suffix == ".json":
            found.extend(_strings(json.loads(path.read_text(encoding="utf-8"))))
        elif path.suffix == ".yaml":
            found.extend(_strings(yaml.safe_load(path.read_text(encoding="utf-8"))))
    return found


def _real_markup(platform: str, field: str) -> list[str]:
    """Every ``field`` value in the real payloads of ``platform`` (bodies inside cassettes too)."""

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == field and isinstance(item, str):
                    yield item
                else:
                    yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)
        elif isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            try:
                yield from walk(json.loads(value))
            except ValueError:
                pass

    found: list[str] = []
    for path in sorted((REALDATA / platform).iterdir()):
        if path.suffix == ".json":
            found.extend(walk(json.loads(path.read_text(encoding="utf-8"))))
        elif path.suffix == ".yaml":
            found.extend(walk(yaml.safe_load(path.read_text(encoding="utf-8"))))
    return found


def test_every_string_of_the_real_payloads() -> None:
    strings = _real_strings()
    assert len(strings) > 1000
    differing = [s for s in strings if html_to_text(s) != html_to_text_parsed(s)]
    assert differing == []


@pytest.mark.parametrize(("platform", "field", "at_least"), [("mastodon", "content", 39), ("youtube", "textDisplay", 20)])
def test_the_real_markup_takes_the_fast_path(platform: str, field: str, at_least: int) -> None:
    markups = _real_markup(platform, field)
    assert len(markups) >= at_least
    assert any("<" in m for m in markups)
    for markup in markups:
        fast = text._split_text(markup) if "<" in markup else html_to_text(markup)
        assert fast is not None, markup
        assert fast == html_to_text_parsed(markup), markup


def test_the_sample_platforms_markup() -> None:
    world = World(seed=5, posts_per_account=300)
    checked = 0
    for index in range(300):
        for platform in ("mastodon", "youtube"):
            post = world.post(platform, index)
            texts = [post.text, *(reply.text for reply in world.replies(platform, index))]
            for plain in texts:
                for markup in (_content("https://social.example", plain, post.hashtags, post.mentions), _display(plain)):
                    fast = text._split_text(markup)
                    assert fast is not None, markup
                    assert fast == html_to_text_parsed(markup) == html_to_text(markup), markup
                    checked += 1
    assert checked > 1000


@pytest.mark.parametrize("markup", NASTY)
def test_nasty_markup(markup: str) -> None:
    assert html_to_text(markup) == html_to_text_parsed(markup)


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>Water &amp; power</p><p>Call <a href=\"tel:1070\">1070</a><br />today</p>", "Water & power\n\nCall 1070\ntoday"),
        ("<p>नमस्ते</p><p>बाढ़ &amp; राहत</p>", "नमस्ते\n\nबाढ़ & राहत"),
        ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
        ("<p>a < b</p>", "a < b"),
        ("<script>x</script>y", "xy"),
        ('<span class="invisible">https://</span><span class="ellipsis">example.org/a</span>', "https://example.org/a"),
    ],
)
def test_values(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_random_markup_from_tricky_pieces(markup: str) -> None:
    assert html_to_text(markup) == html_to_text_parsed(markup)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/&;#=\"' \npbrliaxX09")), max_size=40))
def test_random_markup_from_tricky_characters(markup: str) -> None:
    assert html_to_text(markup) == html_to_text_parsed(markup)
