"""Personal-information patterns and suggestions: hand-written English, Hindi and Hinglish
cases with exact spans, and recall and precision on the sample platforms' generated text."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from archiver.model import PLATFORMS, WarcPointer
from archiver.rti.patterns import find_personal_data, verhoeff_valid
from archiver.rti.redact import suggest, suggest_review
from archiver.rti.review import ReviewRecord
from archiver.samples.world import World
from tests.rti.conftest import Archive


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in find_personal_data(text)]


def _with_check_digit(eleven: str) -> str:
    return next(eleven + d for d in "0123456789" if verhoeff_valid(eleven + d))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मेरा नंबर +91 98765 43210 है, कृपया कॉल करें", [("phone", "+91 98765 43210")]),
        ("मेरा मोबाइल ९८७६५४३२१० है", [("phone", "९८७६५४३२१०")]),
        ("फ़ोन करें 098765-43210 या 011-23456789 पर", [("phone", "098765-43210"), ("phone", "011-23456789")]),
        ("Mera number +91-9876543210 hai, call kar lena", [("phone", "+91-9876543210")]),
        ("ईमेल: sunita.verma@example.in पर भेजें", [("email", "sunita.verma@example.in")]),
        ("मेरा पैन ABCPE1234F है", [("pan", "ABCPE1234F")]),
        ("गाड़ी MH 12 AB 1234 रोज़ यहाँ खड़ी रहती है, दूसरी DL-3C-AB-1234", [("vehicle", "MH 12 AB 1234"), ("vehicle", "DL-3C-AB-1234")]),
        ("हमारे मोहल्ले गली नंबर 3, शिव नगर में पानी नहीं आया", [("address", "गली नंबर 3, शिव नगर")]),
        ("मकान नं. 12, राम नगर, पिन कोड ८००००१", [("address", "मकान नं. 12, राम नगर"), ("pin_code", "८००००१")]),
        ("Paani nahi aaya Ward 7, Station Road pe, A/c no 123456789012 IFSC SBIN0001234", [("address", "Ward 7, Station Road"), ("bank_account", "123456789012"), ("ifsc", "SBIN0001234")]),
        ("Paise bhej do rahul.k@ybl pe", [("upi", "rahul.k@ybl")]),
        ("Profile dekho https://x.com/rahul_k123 aur https://mastodon.social/@sunita", [("profile_link", "https://x.com/rahul_k123"), ("profile_link", "https://mastodon.social/@sunita")]),
    ],
)
def test_hand_written_examples_are_found_with_their_exact_span(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected


def test_aadhaar_needs_a_check_digit_or_the_word_before_it() -> None:
    valid = _with_check_digit("23456789012")
    spaced = f"{valid[:4]} {valid[4:8]} {valid[8:]}"
    invalid = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert _kinds(f"number {spaced} given") == [("aadhaar", spaced)]
    assert find_personal_data(f"number {spaced}")[0].confidence == "high"
    # without a valid check digit, only after its keyword (English or Hindi)
    assert _kinds(f"number {invalid} given") == []
    assert _kinds(f"मेरा आधार {invalid} है") == [("aadhaar", invalid)]
    assert find_personal_data(f"Aadhaar {invalid}")[0].confidence == "medium"
    assert verhoeff_valid("2363") and not verhoeff_valid("2364")


def test_the_department_s_announcements_give_nothing() -> None:
    for text in (
        "Update on the flood relief helpline: teams are on the ground in Patna district. Call 1070 for help. #FloodRelief",
        "The road repair on NH-48 will continue through 15 December. https://jalshakti.gov.example/notice/12",
        "Gaya जिले में बाढ़ राहत हेल्पलाइन जारी है। सहायता के लिए 1070 पर कॉल करें। #बाढ़राहत @DMGaya",
        "Sabhi se request hai ki pension ka paisa ke liye 31 January tak apply karein #Pension",
    ):
        assert find_personal_data(text) == [], text


def test_recall_and_precision_on_the_sample_platforms_generated_text() -> None:
    world = World(seed=3, posts_per_account=200)
    expected = found = 0
    missed: list[tuple[str, str]] = []
    department_findings: list[str] = []
    for platform in PLATFORMS:
        for index in range(200):
            department_findings += [f.text for f in find_personal_data(world.post(platform, index).text)]
            for reply in world.replies(platform, index):
                texts = {f.text for f in find_personal_data(reply.text)}
                if reply.author.is_department:
                    department_findings += list(texts)
                for kind, value in reply.personal:
                    expected += 1
                    if value in texts:
                        found += 1
                    else:
                        missed.append((kind, value))
    assert expected > 2000
    assert missed == [] and found == expected  # recall 1.0 on the generator's ground truth
    assert department_findings == []  # precision: nothing flagged in the department's own posts


def _record(text: str, *, by_department: bool, handle: str | None = "sunitaverma42", name: str | None = "Sunita Verma") -> ReviewRecord:
    return ReviewRecord(
        record_id="mastodon:2001", version_id="v" * 64, platform="mastodon", account="mastodon:109000000000000001",
        by_department=by_department, kind="reply", text=text, captured_at=datetime(2026, 11, 20, tzinfo=timezone.utc),
        pointer=WarcPointer("a.warc.gz", 0, 1), warc_record_id="<urn:uuid:1>", author_id="110000000000000042",
        author_handle=handle, author_name=name, url=f"https://social.example/@{handle}/2001",
    )


def test_suggestions_cover_a_citizen_s_identity_but_never_the_department_s_posts() -> None:
    citizen = _record("@jalshakti @rahulk99 मेरा नाम सीमा कुमार है, नंबर +91 9876543210", by_department=False)
    got = {(s.field, s.text, s.kind) for s in suggest(citizen, official_handles=frozenset({"jalshakti"}))}
    assert got == {
        ("author_name", "Sunita Verma", "name"),
        ("author_handle", "sunitaverma42", "handle"),
        ("author_id", "110000000000000042", "account_id"),
        ("url", "sunitaverma42", "profile_link"),
        ("text", "rahulk99", "handle"),
        ("text", "सीमा कुमार", "name"),
        ("text", "+91 9876543210", "phone"),
    }
    assert all(s.clause == "8(1)(j)" for s in suggest(citizen))
    department = _record("@sunitaverma42 call +91 9876543210 or mail help@jalshakti.gov.example", by_department=True, handle="jalshakti", name="Jal Shakti Department")
    assert suggest(department) == []
    # names known from the review set are suggested where other citizens write them
    other = _record("Sunita Verma ji ne sahi kaha", by_department=False, handle="amit1", name="Amit")
    texts = {(s.field, s.text) for s in suggest_review([citizen, other, department])}
    assert ("text", "Sunita Verma") in texts


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("My name is Ravi Kumar, the tap in our lane is dry", ["Ravi Kumar"]),
        ("I AM Suresh from ward 4", ["Suresh"]),
        ("mera naam Anil hai, paani kab aayega?", ["Anil"]),
        ("मेरा नाम सीमा कुमार है, पानी नहीं आया", ["सीमा कुमार"]),
        # the words after "I am" or "this is" are a name only when capitalised
        ("I am very angry about the water supply", []),
        ("This is not acceptable, fix the pipeline", []),
        ("i am waiting since Monday for the tanker", []),
        ("this is the third complaint from Gandhi Nagar", []),
    ],
)
def test_a_name_the_writer_gives_is_suggested_and_ordinary_words_are_not(text: str, names: list[str]) -> None:
    got = [s.text for s in suggest(_record(text, by_department=False, handle=None, name=None)) if s.field == "text" and s.kind == "name"]
    assert got == names


def test_suggestions_on_the_harvested_dataset_find_every_planted_value_and_spare_the_department(archive: Archive) -> None:
    from archiver.rti.threads import read_threads

    planted = {value for platform in PLATFORMS for index in range(archive.world.post_count()) for reply in archive.world.replies(platform, index) for _, value in reply.personal}
    posts = [str(r["record_id"]) for r in archive.rows(["record_id", "kind"]) if r["kind"] == "post"]
    records = read_threads(archive.records_dir, posts).records
    suggestions = suggest_review(records)
    by_version: dict[str, set[str]] = {}
    for s in suggestions:
        by_version.setdefault(s.version_id, set()).add(s.text)
    checked = 0
    for record in records:
        if record.by_department:
            assert record.version_id not in by_version, record.text
            continue
        for value in planted:
            if value in record.text:
                checked += 1
                assert value in by_version.get(record.version_id, set()), (value, record.text)
        assert record.author_handle is None or record.author_handle in by_version[record.version_id]
    assert checked > 100

