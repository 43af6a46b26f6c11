"""The query parser, the filters, cursors, Devanagari analysis, transliteration keys and snippets:
pure functions, tested on concrete values and fuzzed."""

from __future__ import annotations

import sqlite3
import unicodedata
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.errors import SearchError
from archiver.search.analysis import analyzed, tokens
from archiver.search.documents import text_fields
from archiver.search.query import (
    And,
    Filters,
    Match,
    Not,
    Or,
    SearchRequest,
    encode_cursor,
    ist_day_bounds,
    parse_filters,
    parse_query,
    positive_matches,
)
from archiver.search.snippets import snippet
from archiver.search.translit import devanagari_key, key, latin_key

#: real Hindi words, as typed (ड़ and ज़ with the nukta as a separate mark)
HINDI = {
    "सड़क": "road",
    "बारिश": "rain",
    "शिकायत": "complaint",
    "प्रधानमंत्री": "prime minister",
    "क्षेत्र": "area",
    "ज़िला": "district",
    "हेल्पलाइन": "helpline",
    "गाँव": "village",
}


def t(field: str, *tokens_: str, prefix: bool = False) -> Match:
    return Match(field, tuple(tokens_), prefix)


# -- analysis ------------------------------------------------------------------------------------
@pytest.mark.parametrize("word", list(HINDI))
def test_a_hindi_word_is_one_token_with_every_vowel_sign_and_virama(word: str) -> None:
    [token] = tokens(f"({word}),")
    assert token == unicodedata.normalize("NFC", word).replace("\u093c", "")
    # every vowel sign, virama, anusvara and candrabindu is still there
    marks = [c for c in word if unicodedata.category(c).startswith("M") and c != "\u093c"]
    assert [c for c in token if unicodedata.category(c).startswith("M")] == marks


def test_default_fts5_tokenizer_shreds_hindi_and_the_configured_one_does_not() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE plain USING fts5(x)")
    db.execute("CREATE VIRTUAL TABLE marks USING fts5(x, tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* Co M*'\")")
    for table in ("plain", "marks"):
        db.execute(f"INSERT INTO {table} VALUES (?)", (" ".join(HINDI),))
        db.execute(f"CREATE VIRTUAL TABLE {table}_v USING fts5vocab({table}, 'row')")
    plain = {row[0] for row in db.execute("SELECT term FROM plain_v")}
    assert "सड़क" not in plain and "सड" in plain  # the nukta split the word
    assert {row[0] for row in db.execute("SELECT term FROM marks_v")} == set(HINDI)


def test_folding_nukta_accents_case_and_joiners() -> None:
    assert tokens("सडक सड़क") == ["सडक", "सडक"]
    assert tokens("ज़िला जिला") == ["जिला", "जिला"]
    assert tokens("Café CAFE ＣＡＦＥ") == ["cafe", "cafe", "cafe"]
    assert tokens("क्\u200dष") == ["क्ष"]
    assert tokens("helpलाइन") == ["help", "लाइन"]
    assert analyzed("NH-48, e-KYC; #बाढ़राहत @JalShaktiDept") == "nh 48 e kyc बाढराहत jalshaktidept"


def test_a_long_token_is_cut_like_lucene_cuts_it() -> None:
    assert [len(x) for x in tokens("a" * 600)] == [255, 255, 90]


def _fields_of_whole_text(text: str) -> tuple[str, str, str]:
    """What ``text_fields`` must give: the tokens of the whole text, and the key of each token by script."""
    found = tokens(text)
    keys = [(k, "\u0900" <= w[0] <= "\u097f") for w in found if (k := key(w))]
    return " ".join(found), " ".join(k for k, deva in keys if deva), " ".join(k for k, deva in keys if not deva)


#: characters where analysing piece by piece could differ from the whole text: spaces of every kind,
#: compatibility forms that become spaces or marks (NBSP, ideographic space, ¨, ﬁ), marks after a
#: space, final sigma, joiners, nukta, script changes
_TRICKY = [" ", "\u00a0", "\u3000", "\u2028", "\t", "\u00a8", "\ufb01", "\u0301", "\u093c", "\u094d", "\u0902", "\u200c", "\u200d", "\u00ad",
           "Σ", "ΑΣ", "ς", "NH-48", "सड़क", "बारिश", "help", "लाइन", "Café", "ＡＢＣ", "١٢", "_", "ज़िला", "\u0915\u093c"]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_TRICKY), max_size=40).map("".join) | st.text(max_size=300))
def test_text_fields_analysed_piece_by_piece_equal_the_whole_text(text: str) -> None:
    assert text_fields(text) == _fields_of_whole_text(text)


def test_text_fields_of_a_mixed_post() -> None:
    assert text_fields("Baarish से सड़क\u00a0टूटी, helpलाइन NH-48") == (
        "baarish से सडक टूटी help लाइन nh 48",
        "sadak tuti lain",
        "barish help",
    )


# -- transliteration -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hindi", "roman"),
    [("सड़क", "sadak"), ("बारिश", "baarish"), ("शिकायत", "shikayat"), ("प्रधानमंत्री", "pradhanmantri"), ("क्षेत्र", "kshetra"), ("ज़िला", "zila"), ("पानी", "paani"), ("अच्छा", "accha"), ("ज़मीन", "zameen"), ("धन्यवाद", "dhanyavaad"), ("मैं", "main")],
)
def test_romanised_hindi_and_devanagari_share_a_key(hindi: str, roman: str) -> None:
    [token] = tokens(hindi)
    assert devanagari_key(token) == latin_key(roman) is not None


def test_keys_are_only_made_for_words_of_three_letters() -> None:
    assert key("की") is None and key("ki") is None and key("48") is None
    assert key("है") == "hai"


# -- the parser --------------------------------------------------------------------------------------
def test_words_phrases_prefixes_and_operators() -> None:
    assert parse_query("flood relief") == And((Or((t("terms", "flood"), t("deva_keys", "phlud"))), Or((t("terms", "relief"), t("deva_keys", "relieph")))))
    assert parse_query('"road repair"') == Or((t("terms", "road", "repair"), t("deva_keys", "road", "repair")))
    assert parse_query("reli*") == Or((t("terms", "reli", prefix=True), t("deva_keys", "reli", prefix=True)))
    assert parse_query("NH-48") == t("terms", "nh", "48")
    assert parse_query("सड़क") == Or((t("terms", "सडक"), t("latn_keys", "sadak")))
    assert parse_query("nh AND 48 OR xy") == Or((And((t("terms", "nh"), t("terms", "48"))), t("terms", "xy")))
    assert parse_query("nh -48") == And((t("terms", "nh"), Not(t("terms", "48"))))
    assert parse_query("nh NOT 48") == parse_query("nh -48")
    assert parse_query("-48") == Not(t("terms", "48"))
    assert parse_query("NOT -48") == t("terms", "48")
    assert parse_query("nh NOT (-48 -xy)") == And((t("terms", "nh"), Or((t("terms", "48"), t("terms", "xy")))))
    assert parse_query("") is None and parse_query("   ") is None


def test_lower_case_operators_are_words() -> None:
    assert positive_matches(parse_query("nh or 48")) == [t("terms", "nh"), t("terms", "or"), t("terms", "48")]


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ('"nh 48', '"nh 48"'),  # an unclosed quote runs to the end
        ("(nh 48", "nh 48"),  # an unclosed parenthesis closes at the end
        ("nh) 48)", "nh 48"),  # stray closing ones are skipped
        ("nh AND", "nh"),  # dangling operators
        ("OR nh", "nh"),
        ("nh NOT", "nh"),
        ("nh* AND 48", "nh* 48"),
        ("nh:48", '"nh 48"'),  # FTS5 column syntax is text
        ("nh'; DROP TABLE docs; --", "nh drop table docs"),  # so is SQL
        ("NEAR(nh 48)", "near nh 48"),
        ("{terms}: nh ^48", "terms nh 48"),
    ],
)
def test_bad_syntax_becomes_a_sensible_literal_search(typed: str, same_as: str) -> None:
    assert parse_query(typed) == parse_query(same_as)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("x" * 10_000, "10,000 characters long; the limit is 1,000"),
        ("!!! ;;; ***", "has no word to search for"),
        ("a*", "too short: give at least two letters"),
        ("nh OR -48", "only excludes"),
        ("(" * 20 + "nh", "more than 16 deep"),
        (" ".join(f"w{i}" for i in range(70)), "more than 64 words"),
    ],
)
def test_what_cannot_be_searched_gets_a_clear_error(typed: str, says: str) -> None:
    with pytest.raises(SearchError) as raised:
        parse_query(typed)
    assert says in raised.value.message


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*'ab सड़क"()*-+:^{}\';\u094d\u093c', "AND", "OR", "NOT", " "]), max_size=60).map("".join) | st.text(max_size=200))
def test_the_parser_never_raises_anything_but_a_search_error(typed: str) -> None:
    try:
        node = parse_query(typed)
    except SearchError as exc:
        assert exc.message
        return
    for match in positive_matches(node):
        assert match.tokens and all(tok for tok in match.tokens)
        assert match.field in ("terms", "deva_keys", "latn_keys")


# -- filters and cursors -------------------------------------------------------------------------
def test_filters_from_key_value_pairs() -> None:
    filters = parse_filters(["platform=x,facebook", "by=citizen", "from=2025-08-01", "to=2025-08-31", "hold=LITIGATION", "rti=yes", "retention=c-3", "deleted=no", "account=x:1"])
    assert filters == Filters(
        platform=("x", "facebook"), by_department=False, date_from=date(2025, 8, 1), date_to=date(2025, 8, 31), hold_type=("LITIGATION",), rti=("yes",), retention_class=("C-3",), deleted=False, account=("x:1",)
    )
    assert parse_filters(["hold=yes"]).under_hold is True
    # language tags as the platforms report them (hi-Latn), whatever case they are typed in
    assert parse_filters(["language=HI-latn,EN,en-in"]).language == ("hi-Latn", "en", "en-IN")


def test_ist_days_are_converted_to_utc_instants() -> None:
    low, high = Filters(date_from=date(2025, 8, 1), date_to=date(2025, 8, 31)).created_range_ms()
    assert datetime.fromtimestamp(low / 1000, timezone.utc) == datetime(2025, 7, 31, 18, 30, tzinfo=timezone.utc)  # type: ignore[operator]
    assert datetime.fromtimestamp(high / 1000, timezone.utc) == datetime(2025, 8, 31, 18, 30, tzinfo=timezone.utc)  # type: ignore[operator]
    assert ist_day_bounds(date(2025, 8, 1))[1] - ist_day_bounds(date(2025, 8, 1))[0] == 86_400_000


@pytest.mark.parametrize(
    ("items", "says"),
    [
        (["colour=red"], "there is no filter 'colour'"),
        (["platform=myspace"], "does not take myspace; it takes x, facebook"),
        (["from=01-08-2025"], "is not a day; write YYYY-MM-DD"),
        (["from=2025-09-01", "to=2025-08-01"], "ends (2025-08-01) before it starts"),
        (["platform"], "is not key=value"),
        (["hold=FOREVER"], "does not take FOREVER"),
    ],
)
def test_bad_filters_say_what_is_allowed(items: list[str], says: str) -> None:
    with pytest.raises(SearchError) as raised:
        parse_filters(items)
    assert says in raised.value.message


def test_a_cursor_is_bound_to_its_search() -> None:
    first = SearchRequest(parse_query("flood"), sort="newest")
    cursor = encode_cursor(first.fingerprint(), [1_700_000_000_000, "ab" * 32])
    assert first.with_cursor(cursor).after() == [1_700_000_000_000, "ab" * 32]
    with pytest.raises(SearchError, match="belongs to a different search"):
        SearchRequest(parse_query("road"), sort="newest", cursor=cursor).after()
    with pytest.raises(SearchError, match="the cursor is damaged"):
        first.with_cursor("not-a-cursor!").after()
    with pytest.raises(SearchError, match="a page holds 1 to 500 hits"):
        SearchRequest(size=0)


# -- snippets -----------------------------------------------------------------------------------------
def test_snippets_mark_words_and_their_other_script_spelling() -> None:
    text = "बारिश से हमारे गाँव की सड़क टूट गई है, कब ठीक होगी?"
    assert snippet(text, positive_matches(parse_query("sadak"))) == "बारिश से हमारे गाँव की <mark>सड़क</mark> टूट गई है, कब ठीक होगी?"
    assert snippet(text, positive_matches(parse_query("सडक"))) == "बारिश से हमारे गाँव की <mark>सड़क</mark> टूट गई है, कब ठीक होगी?"
    long = "word " * 100 + "flood relief here"
    cut = snippet(long, positive_matches(parse_query("relief")))
    assert cut.startswith("…") and "<mark>relief</mark>" in cut and len(cut) < 240
