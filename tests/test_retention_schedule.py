"""The retention schedule: the default file, the tags and dates it gives, and its error messages."""

from __future__ import annotations

import importlib
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from archiver.errors import ConfigError
from archiver.model import PLATFORMS
from archiver.retention import (
    ACTIONS,
    DEFAULT_SCHEDULE_PATH,
    RECORD_KINDS,
    RETENTION_CLASSES,
    RecordFacts,
    RetentionTag,
    Schedule,
    load_schedule,
    parse_schedule,
)
from archiver.retention.schedule import IST, SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[1]
UTC = timezone.utc

# A small schedule whose line numbers the messages below refer to.
MINIMAL = """\
version: 1
authority:
  records_creating_agency: Department of Water Resources
  reference: RRS item SM-1
  status: draft
series:
  - id: department-posts
    rrs_item: SM-1
    description: The department's posts.
    purpose: Information to the public by the department
    match:
      by_department: true
      kind: [post]
    class: A
    retention: permanent
    action: transfer
    rule: PRR r.5; CSMOP class A
  - id: citizen-replies
    rrs_item: SM-3
    description: Citizens' replies.
    purpose: Citizens' queries and grievances addressed to the department
    match:
      by_department: false
    class: C-3
    retention: 3
    action: review
    rule: PRR r.9; CSMOP class C-3
  - id: unclassified
    rrs_item: SM-6
    description: Everything else.
    purpose: Records awaiting classification
    match: any
    class: C-10
    retention: 10
    action: review
    rule: PRR r.9(1); CSMOP class C-10
"""


def facts(
    kind: str = "post",
    *,
    by_department: bool = True,
    is_media: bool = False,
    platform: str = "x",
    created_at: datetime = datetime(2026, 6, 15, 9, 30, tzinfo=UTC),
) -> RecordFacts:
    return RecordFacts(platform=platform, kind=kind, by_department=by_department, is_media=is_media, created_at=created_at)  # type: ignore[arg-type]


def edited(*replacements: tuple[str, str], text: str = MINIMAL) -> str:
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def problems(text: str, tmp_path: Path) -> str:
    path = tmp_path / "retention.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_schedule(path)
    return caught.value.message.replace(str(path), "retention.yaml")


@pytest.fixture(scope="module")
def schedule() -> Schedule:
    return load_schedule()


# -- the default schedule ------------------------------------------------------------------------
def test_default_schedule_loads_with_its_series_in_order(schedule: Schedule) -> None:
    assert schedule.source == str(DEFAULT_SCHEDULE_PATH)
    assert DEFAULT_SCHEDULE_PATH == ROOT / "schemas" / "retention.yaml"
    assert schedule.version == 1
    assert schedule.authority.status == "draft"
    assert "PRA s.6(1)(e)" in schedule.authority.reference
    assert [(s.id, s.retention_class, s.retention_years, s.action) for s in schedule.series] == [
        ("account-exports", "B", None, "transfer"),
        ("department-posts", "A", None, "transfer"),
        ("department-replies", "C-10", 10, "review"),
        ("citizen-reposts", "ephemeral", 1, "destroy"),
        ("citizen-replies", "C-3", 3, "review"),
        ("unclassified", "C-10", 10, "review"),
    ]
    assert schedule.series[-1].match.is_catch_all
    assert all("CSMOP" in s.rule and "RRS item SM-" in s.rule for s in schedule.series)
    assert [s.rrs_item for s in schedule.series] == ["SM-5", "SM-1", "SM-2", "SM-4", "SM-3", "SM-6"]
    assert all(s.rule.endswith(f"RRS item {s.rrs_item}") and s.purpose for s in schedule.series)
    assert re.fullmatch(r"[0-9a-f]{64}", schedule.fingerprint)


def test_load_schedule_with_no_path_reads_the_default_file(schedule: Schedule) -> None:
    assert load_schedule(DEFAULT_SCHEDULE_PATH).fingerprint == schedule.fingerprint


def test_the_json_schema_is_valid_and_agrees_with_the_code() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    series = schema["$defs"]["series"]["properties"]
    match = schema["$defs"]["match"]["properties"]
    assert tuple(series["class"]["enum"]) == RETENTION_CLASSES
    assert tuple(series["action"]["enum"]) == ACTIONS
    assert tuple(match["kind"]["items"]["enum"]) == RECORD_KINDS
    assert tuple(match["platform"]["items"]["enum"]) == PLATFORMS
    data = yaml.safe_load(DEFAULT_SCHEDULE_PATH.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(data)) == []


# -- tags and dates ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param(
            facts("post"),
            RetentionTag("department-posts", "A", None, date(2052, 1, 1), "transfer", "PRA s.2(e)(iv), s.6(1)(c); PRR r.5 (transfer at 25 years); CSMOP class A; RTI-RULES §3, R8, R21; RRS item SM-1", "SM-1", "Information to the public by the department"),
            id="department post: permanent, appraised for transfer from 1 Jan of year + 26",
        ),
        pytest.param(
            facts("quote", platform="mastodon"),
            RetentionTag("department-posts", "A", None, date(2052, 1, 1), "transfer", "PRA s.2(e)(iv), s.6(1)(c); PRR r.5 (transfer at 25 years); CSMOP class A; RTI-RULES §3, R8, R21; RRS item SM-1", "SM-1", "Information to the public by the department"),
            id="department quote",
        ),
        pytest.param(
            facts("reply", platform="facebook"),
            RetentionTag("department-replies", "C-10", date(2037, 1, 1), date(2037, 1, 1), "review", "PRR r.9(1); CSMOP class C-10 (upgrade to A or B to keep beyond 10 years); RTI-RULES §3, R8; RRS item SM-2", "SM-2", "The department's answers to citizens' queries and grievances"),
            id="department reply: C-10, from 1 Jan of 2026 + 10 + 1",
        ),
        pytest.param(
            facts("reply", by_department=False),
            RetentionTag("citizen-replies", "C-3", date(2030, 1, 1), date(2030, 1, 1), "review", "PRR r.9(1); CSMOP class C-3; DPDP s.17(4) (no erasure duty for the State; PRA retention governs); RTI-RULES §3, §5, R8; RRS item SM-3", "SM-3", "Citizens' queries and grievances addressed to the department"),
            id="citizen reply of 2026-06-15: C-3, review on 2030-01-01",
        ),
        pytest.param(
            facts("comment", by_department=False, platform="youtube", created_at=datetime(2005, 6, 15, tzinfo=UTC)),
            RetentionTag("citizen-replies", "C-3", date(2009, 1, 1), date(2009, 1, 1), "review", "PRR r.9(1); CSMOP class C-3; DPDP s.17(4) (no erasure duty for the State; PRA retention governs); RTI-RULES §3, §5, R8; RRS item SM-3", "SM-3", "Citizens' queries and grievances addressed to the department"),
            id="CSMOP's own example: C-3 recorded 15-06-2005 is reviewable from 1-1-2009",
        ),
        pytest.param(
            facts("repost", by_department=False, platform="bluesky"),
            RetentionTag("citizen-reposts", "ephemeral", date(2027, 6, 15), date(2027, 6, 15), "destroy", "PRA s.6(1)(b); CSMOP ephemeral (may be destroyed after 1 year without formal recording); RTI-RULES §3, R8; RRS item SM-4", "SM-4", "Citizens sharing the department's information"),
            id="citizen repost: ephemeral, one year after",
        ),
        pytest.param(
            facts("post", is_media=True, platform="instagram"),
            RetentionTag("department-posts", "A", None, date(2052, 1, 1), "transfer", "PRA s.2(e)(iv), s.6(1)(c); PRR r.5 (transfer at 25 years); CSMOP class A; RTI-RULES §3, R8, R21; RRS item SM-1", "SM-1", "Information to the public by the department"),
            id="media of a department post follows the post",
        ),
        pytest.param(
            facts("reply", by_department=False, is_media=True),
            RetentionTag("citizen-replies", "C-3", date(2030, 1, 1), date(2030, 1, 1), "review", "PRR r.9(1); CSMOP class C-3; DPDP s.17(4) (no erasure duty for the State; PRA retention governs); RTI-RULES §3, §5, R8; RRS item SM-3", "SM-3", "Citizens' queries and grievances addressed to the department"),
            id="media of a citizen reply follows the reply",
        ),
        pytest.param(
            facts("export", platform="facebook", created_at=datetime(2024, 3, 1, tzinfo=UTC)),
            RetentionTag("account-exports", "B", None, date(2050, 1, 1), "transfer", "PRA s.2(e)(iv); PRR r.5; CSMOP class B; BSA s.57 Expl. 4-7 (original from proper custody); RTI-RULES §3, R8, R21; RRS item SM-5", "SM-5", "Information to the public by the department, as the platform exported its own posts"),
            id="account export file",
        ),
        pytest.param(
            facts("reply", by_department=False, platform="threads"),
            RetentionTag("citizen-replies", "C-3", date(2030, 1, 1), date(2030, 1, 1), "review", "PRR r.9(1); CSMOP class C-3; DPDP s.17(4) (no erasure duty for the State; PRA retention governs); RTI-RULES §3, §5, R8; RRS item SM-3", "SM-3", "Citizens' queries and grievances addressed to the department"),
            id="a platform the schedule does not know is matched on its other facts",
        ),
    ],
)
def test_default_tags(schedule: Schedule, record: RecordFacts, expected: RetentionTag) -> None:
    assert schedule.tag(record) == expected


@pytest.mark.parametrize(
    ("created_at", "c3_from", "a_review_on"),
    [
        pytest.param(datetime(2026, 12, 31, 18, 29, 59, tzinfo=UTC), date(2030, 1, 1), date(2052, 1, 1), id="23:59:59 IST on 31 Dec 2026"),
        pytest.param(datetime(2026, 12, 31, 18, 30, 0, tzinfo=UTC), date(2031, 1, 1), date(2053, 1, 1), id="00:00 IST on 1 Jan 2027"),
        pytest.param(datetime(2027, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5))), date(2031, 1, 1), date(2053, 1, 1), id="another offset, same instant rule"),
    ],
)
def test_years_are_counted_in_the_indian_calendar(schedule: Schedule, created_at: datetime, c3_from: date, a_review_on: date) -> None:
    citizen = schedule.tag(facts("reply", by_department=False, created_at=created_at))
    department = schedule.tag(facts("post", created_at=created_at))
    assert (citizen.retention_until, citizen.review_on) == (c3_from, c3_from)
    assert department.review_on == a_review_on


def test_ephemeral_from_29_february_runs_to_1_march(schedule: Schedule) -> None:
    tag = schedule.tag(facts("repost", by_department=False, created_at=datetime(2028, 2, 29, 12, tzinfo=UTC)))
    assert (tag.retention_until, tag.review_on) == (date(2029, 3, 1), date(2029, 3, 1))
    late = schedule.tag(facts("repost", by_department=False, created_at=datetime(2028, 2, 28, 19, tzinfo=UTC)))
    assert late.review_on == date(2029, 3, 1), "19:00 UTC on 28 Feb is already 29 Feb in India"


def test_record_facts_refuse_what_cannot_be_tagged() -> None:
    with pytest.raises(ValueError, match=r"^created_at 2026-06-15T09:30:00 has no time zone; give the instant in UTC$"):
        facts(created_at=datetime(2026, 6, 15, 9, 30))
    with pytest.raises(ValueError, match=r"^kind 'tweet' is not one of post, reply, comment, quote, repost, export$"):
        facts("tweet")
    with pytest.raises(ValueError, match="must be True or False"):
        RecordFacts("x", "post", 1, False, datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="past the year 9000"):
        facts(created_at=datetime(9500, 1, 1, tzinfo=UTC))
    assert facts(created_at=datetime(2026, 12, 31, 20, tzinfo=UTC)).created_on == date(2027, 1, 1)


fact_strategy = st.builds(
    RecordFacts,
    platform=st.one_of(st.sampled_from(PLATFORMS), st.text(max_size=12)),
    kind=st.sampled_from(RECORD_KINDS),
    by_department=st.booleans(),
    is_media=st.booleans(),
    created_at=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9000, 12, 30), timezones=st.sampled_from([UTC, IST, timezone(timedelta(hours=-12))])
    ),
)


@given(record=fact_strategy)
def test_every_fact_combination_gets_exactly_the_first_matching_series(record: RecordFacts) -> None:
    schedule = load_schedule()
    tag = schedule.tag(record)
    platform = record.platform if record.platform in PLATFORMS else None
    matching = [s for s in schedule.series if s.match.accepts(platform, record.kind, record.by_department, record.is_media)]
    assert matching and tag.series == matching[0].id
    assert (tag.retention_class, tag.action, tag.rule) == (matching[0].retention_class, matching[0].action, matching[0].rule)
    year = record.created_at.astimezone(IST).year
    if tag.retention_class in ("A", "B"):
        assert tag.retention_until is None and tag.review_on == date(year + 26, 1, 1)
    elif tag.retention_class == "ephemeral":
        assert tag.retention_until == tag.review_on and 365 <= (tag.review_on - record.created_on).days <= 366
    else:
        assert tag.retention_until == tag.review_on == date(year + int(tag.retention_class[2:]) + 1, 1, 1)


@given(record=fact_strategy)
def test_platform_specific_series_take_only_their_platforms(record: RecordFacts) -> None:
    schedule = parse_schedule(
        edited(("    match:\n      by_department: false", "    match:\n      by_department: false\n      platform: [x, youtube]\n      is_media: false"))
    )
    tag = schedule.tag(record)
    if not record.by_department and record.platform in ("x", "youtube") and not record.is_media:
        assert tag.series == "citizen-replies"
    elif record.by_department and record.kind == "post":
        assert tag.series == "department-posts"
    else:
        assert tag.series == "unclassified"


def test_iter_tags_tags_a_stream_in_order(schedule: Schedule) -> None:
    rows = [facts("post"), facts("reply", by_department=False), facts("export")]
    assert [t.series for t in schedule.iter_tags(iter(rows))] == ["department-posts", "citizen-replies", "account-exports"]


# -- the fingerprint -----------------------------------------------------------------------------
def test_a_changed_schedule_changes_the_fingerprint_and_the_tags() -> None:
    before = parse_schedule(MINIMAL)
    after = parse_schedule(edited(("class: C-3\n    retention: 3", "class: C-5\n    retention: 5")))
    assert before.fingerprint != after.fingerprint
    reply = facts("reply", by_department=False)
    assert [t.review_on for t in before.iter_tags([reply])] == [date(2030, 1, 1)]
    assert [t.review_on for t in after.iter_tags([reply])] == [date(2032, 1, 1)]
    reworded = parse_schedule(edited(("rule: PRR r.9; CSMOP class C-3", "rule: PRR r.9(1); CSMOP class C-3")))
    assert reworded.fingerprint != before.fingerprint


def test_layout_and_comments_do_not_change_the_fingerprint() -> None:
    before = parse_schedule(MINIMAL)
    relaid = "# edited by the records officer\n" + edited(("kind: [post]", "kind:\n        - post"), ("retention: 3", "retention: 3   # C-3"))
    assert parse_schedule(relaid).fingerprint == before.fingerprint


# -- error messages ------------------------------------------------------------------------------
CLASS_ALLOWED = "allowed: A, B, C-1 to C-10, ephemeral."
BAD_FILES = [
    pytest.param(
        [("class: C-3", "class: D")],
        "  - series[1].class (line 24): found 'D'; " + CLASS_ALLOWED + " A and B are permanent; C-n keeps a record n years (n from 1 to 10); ephemeral records may go after 1 year (CSMOP).",
        id="wrong class",
    ),
    pytest.param(
        [("class: C-3", "class: c3")],
        "  - series[1].class (line 24): found 'c3'; " + CLASS_ALLOWED + " Write it as CSMOP does: C-3.",
        id="class written loosely",
    ),
    pytest.param(
        [("class: C-3\n    retention: 3", "class: C-12\n    retention: 12")],
        "  - series[1].class (line 24): found 'C-12'; " + CLASS_ALLOWED + " CSMOP: a C record kept beyond 10 years must be upgraded to A or B; write class: A or class: B with retention: permanent.",
        id="C-12",
    ),
    pytest.param(
        [("class: C-3\n    retention: 3", "class: C-10\n    retention: 15")],
        "  - series[1].retention (line 25): found 15; allowed: 10 (class C-10 keeps a record 10 years). CSMOP: a C record kept beyond 10 years must be upgraded to A or B; write class: A or class: B with retention: permanent.",
        id="C class kept beyond 10 years",
    ),
    pytest.param(
        [("retention: 3", "retention: 5")],
        "  - series[1].retention (line 25): found 5; allowed: 3 (class C-3 keeps a record 3 years). Make the class and the years agree: retention: 3, or class: C-5.",
        id="class and years disagree",
    ),
    pytest.param(
        [("retention: 3", "retention: -3")],
        "  - series[1].retention (line 25): found -3; allowed: a whole number of years (1 or more), or permanent. A record cannot be kept -3 years. Write the years the class keeps a record: 3 for C-3, 1 for ephemeral, permanent for A and B.",
        id="negative years",
    ),
    pytest.param(
        [("retention: 3", "retention: 3 years")],
        "  - series[1].retention (line 25): found '3 years'; allowed: a whole number of years (1 or more), or permanent. Write the number of years alone, without units: retention: 3.",
        id="years with a unit",
    ),
    pytest.param(
        [("retention: permanent", "retention: 5")],
        "  - series[0].retention (line 15): found 5; allowed: permanent (class A records are permanent). To keep these records for a period instead, choose class C-n, where n is the years (10 at most).",
        id="class A for a period",
    ),
    pytest.param(
        [("action: review\n    rule: PRR r.9;", "action: delete\n    rule: PRR r.9;")],
        "  - series[1].action (line 26): found 'delete'; allowed: destroy, transfer, review. Did you mean destroy? Actions: destroy proposes the record for destruction at the January review, transfer sends it to the National Archives (permanent records, PRR r.5), review brings it before the records officer.",
        id="unknown action",
    ),
    pytest.param(
        [("action: transfer", "action: destroy")],
        "  - series[0].action (line 16): found 'destroy'; allowed: transfer, review (class A is permanent). Permanent records are not destroyed: they go to the National Archives after 25 years (PRR r.5), or are kept with the reasons recorded. Write transfer or review.",
        id="destroying a permanent record",
    ),
    pytest.param(
        [("action: review\n    rule: PRR r.9;", "action: transfer\n    rule: PRR r.9;")],
        "  - series[1].action (line 26): found 'transfer'; allowed: destroy, review (class C-3 is not permanent). The National Archives take permanent records (classes A and B) after 25 years (PRR r.5). Write destroy or review, or upgrade the class to A or B.",
        id="transferring a C record",
    ),
    pytest.param(
        [("match: any", "match:\n      by_department: true")],
        "  - series (line 6): found 3 series, none of them a catch-all; allowed: a last series with match: any. Add at the end a series that takes every record no other series takes (match: any), as the default schedule's unclassified series does, so that every record gets a class.",
        id="missing catch-all",
    ),
    pytest.param(
        [("    match:\n      by_department: false", "    match: any")],
        "  - series[1].match (line 22): found 'any' (a catch-all); allowed: match: any in the last series only. A catch-all takes every record, so series[2] and those after it would never apply. Move this series to the end of the list.",
        id="catch-all not last",
    ),
    pytest.param(
        [("id: citizen-replies", "id: department-posts")],
        "  - series[1].id (line 18): found 'department-posts'; allowed: an id no other series has. series[0] already has this id, and each tagged row names its series by id. Rename one of them.",
        id="duplicate id",
    ),
    pytest.param(
        [("    class: A\n", "")],
        "  - series[0].class (line 7): found nothing; " + CLASS_ALLOWED + " Add class. A and B are permanent; C-n keeps a record n years (n from 1 to 10); ephemeral records may go after 1 year (CSMOP).",
        id="missing class",
    ),
    pytest.param(
        [("kind: [post]", "kind: [post, tweets]")],
        "  - series[0].match.kind[1] (line 13): found 'tweets'; allowed: post, reply, comment, quote, repost, export. Kinds are written in the singular and in lower case; leave kind out to take every kind.",
        id="unknown kind",
    ),
    pytest.param(
        [("kind: [post]", "kind: [post]\n      platform: [twitter]")],
        "  - series[0].match.platform[0] (line 14): found 'twitter'; allowed: x, facebook, instagram, youtube, mastodon, bluesky. Did you mean x? Platforms are written in lower case (X is x); leave platform out to take every platform.",
        id="platform by its old name",
    ),
    pytest.param(
        [("    match:\n      by_department: false", "    match: {}")],
        "  - series[1].match (line 22): found an empty mapping; allowed: match: any, or at least one of by_department, kind, platform, is_media. Write match: any for the catch-all series, or name the conditions.",
        id="empty match",
    ),
    pytest.param(
        [("class: A", "class: A\n    class: B")],
        "  - series[0].class (line 15): found class a second time; allowed: each key once in a mapping. YAML would keep only the last one; delete the one you did not mean.",
        id="key given twice",
    ),
    pytest.param(
        [("    match:\n      by_department: false", "    match:\n      by_department: true\n      kind: [post]\n      platform: [x]")],
        "  - series[1].match (line 22): found a match no record reaches; allowed: a match that takes at least one kind of record. Every record it accepts is taken first by series[0] (department-posts). Move this series above them, or narrow their match.",
        id="series no record reaches",
    ),
    pytest.param(
        [("    purpose: Information to the public by the department\n", "")],
        "  - series[0].purpose (line 7): found nothing; allowed: text: in English, why the department holds these records. Add purpose. "
        "Say it in a phrase a member of the public understands, e.g. Citizens' queries and grievances addressed to the department; "
        "it is written into every tagged row and into the statement of categories of documents held (RTI s.4(1)(b)(vi)).",
        id="missing purpose",
    ),
    pytest.param(
        [("purpose: Records awaiting classification", 'purpose: "  "')],
        "  - series[2].purpose (line 31): found '  '; allowed: text: in English, why the department holds these records. "
        "Say it in a phrase a member of the public understands, e.g. Citizens' queries and grievances addressed to the department; "
        "it is written into every tagged row and into the statement of categories of documents held (RTI s.4(1)(b)(vi)).",
        id="blank purpose",
    ),
    pytest.param(
        [("    rrs_item: SM-3\n", "")],
        "  - series[1].rrs_item (line 18): found nothing; allowed: text: the item of the departmental Record Retention Schedule, e.g. SM-3. Add rrs_item. "
        "The file/series number of the series' records, written into every tagged row; cite the same item in the rule.",
        id="missing RRS item",
    ),
    pytest.param(
        [("rrs_item: SM-3", "rrs_item: ' SM-3'")],
        "  - series[1].rrs_item (line 19): found ' SM-3'; allowed: text: the item of the departmental Record Retention Schedule, e.g. SM-3. "
        "The file/series number of the series' records, written into every tagged row; cite the same item in the rule.",
        id="RRS item with a space",
    ),
    pytest.param(
        [("rule: PRR r.5; CSMOP class A", "rule: PRR r.5; CSMOP class A; RRS item SM-2")],
        "  - series[0].rrs_item (line 8): found 'SM-1'; allowed: the item its rule cites: SM-2. "
        "Each tagged row carries both, so they must agree: write rrs_item: SM-2, or correct the RRS item in the rule.",
        id="RRS item other than the rule's",
    ),
    pytest.param(
        [("rrs_item: SM-3", "rrs_item: SM-1")],
        "  - series[1].rrs_item (line 19): found 'SM-1'; allowed: an item of its own, or class 'A', retention 'permanent', action 'transfer' as series[0] (department-posts) has. "
        "An item of the Record Retention Schedule fixes one retention for its records. Give this series its own item, or the class, retention and action of the other series.",
        id="one RRS item, two retentions",
    ),
    pytest.param(
        [("status: draft", "status: approved\n  approved_by: Deputy Secretary (Records)\n  approved_on: 25-11-2026")],
        "  - authority.approved_on (line 7): found '25-11-2026'; allowed: a date written YYYY-MM-DD. Write the date as year-month-day, e.g. 2026-11-25 (not 25-11-2026).",
        id="date written day first",
    ),
]


@pytest.mark.parametrize(("replacements", "line"), BAD_FILES)
def test_each_bad_file_gets_one_exact_helpful_message(tmp_path: Path, replacements: list[tuple[str, str]], line: str) -> None:
    assert problems(edited(*replacements), tmp_path) == "retention.yaml has 1 problem(s):\n" + line


def test_every_problem_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = edited(
        ("class: C-3", "class: C-12"),
        ("action: transfer", "action: delete"),
        ("id: citizen-replies", "id: department-posts"),
        ("retention: permanent", "retention: -1"),
        ("rule: PRR r.5; CSMOP class A", "rule: PRR r.5; CSMOP class A\n    clas: B"),
    )
    message = problems(text, tmp_path)
    assert message.splitlines()[0] == "retention.yaml has 5 problem(s):"
    assert [line.split(":")[0] for line in message.splitlines()[1:]] == [
        "  - series[0].retention (line 15)",
        "  - series[0].action (line 16)",
        "  - series[0].clas (line 18)",
        "  - series[1].id (line 19)",
        "  - series[1].class (line 25)",
    ]
    assert "  - series[0].clas (line 18): found an unknown key; allowed: id, rrs_item, description, purpose, match, class, retention, action, rule. Did you mean class? Check its spelling against docs/retention.md." in message


def test_series_may_share_an_rrs_item_with_one_retention() -> None:
    shared = parse_schedule(edited(("id: citizen-replies\n    rrs_item: SM-3", "id: citizen-replies\n    rrs_item: SM-6"), ("class: C-3\n    retention: 3", "class: C-10\n    retention: 10")))
    assert [(s.id, s.rrs_item) for s in shared.series] == [("department-posts", "SM-1"), ("citizen-replies", "SM-6"), ("unclassified", "SM-6")]
    tag = shared.tag(facts("reply", by_department=False))
    assert (tag.series, tag.rrs_item, tag.purpose) == ("citizen-replies", "SM-6", "Citizens' queries and grievances addressed to the department")


def test_an_approved_schedule_names_who_approved_it(tmp_path: Path) -> None:
    assert problems(edited(("status: draft", "status: approved")), tmp_path) == (
        "retention.yaml has 2 problem(s):\n"
        "  - authority.approved_by (line 2): found nothing; allowed: text: name and designation. Add approved_by. An approved schedule names the records officer who approved it (PRA s.5).\n"
        "  - authority.approved_on (line 2): found nothing; allowed: a date written YYYY-MM-DD. Add approved_on. Write the date of approval as year-month-day, e.g. 2026-11-25."
    )
    approved = parse_schedule(edited(("status: draft", "status: approved\n  approved_by: Deputy Secretary (Records)\n  approved_on: 2026-11-25")))
    assert (approved.authority.approved_by, approved.authority.approved_on) == ("Deputy Secretary (Records)", date(2026, 11, 25))


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    assert problems(edited(("kind: [post]", "kind: [post")), tmp_path) == (
        "retention.yaml is not valid YAML at line 14, column 10: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence that starts at line 13). Check the indentation there and on the line above "
        "(each series starts with '- id:', its keys indented under it), and quote text that contains ': ' or ' #'."
    )


def test_missing_empty_and_misshapen_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_schedule(missing)
    assert caught.value.message == (
        f"cannot read the retention schedule {missing}: No such file or directory. "
        f"Give the path of an existing schedule file, or none to use the default {DEFAULT_SCHEDULE_PATH}."
    )
    assert problems("# nothing yet\n", tmp_path) == (
        "retention.yaml is empty; a retention schedule needs version, authority and series. "
        f"Start from a copy of {DEFAULT_SCHEDULE_PATH}."
    )
    assert problems("- department-posts\n- citizen-replies\n", tmp_path) == (
        "retention.yaml: the top level must be a mapping with version, authority and series, "
        "not the list ['department-posts', 'citizen-replies']."
    )


def test_config_error_keeps_its_kind_for_the_cli(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_schedule(tmp_path / "nope.yaml")
    assert caught.value.to_dict()["error"] == "config"


# -- docs and exports ----------------------------------------------------------------------------
def test_docs_describe_every_field_and_default_series(schedule: Schedule) -> None:
    docs = (ROOT / "docs" / "retention.md").read_text(encoding="utf-8")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    keys = [*schema["properties"], *schema["$defs"]["authority"]["properties"], *schema["$defs"]["series"]["properties"], *schema["$defs"]["match"]["properties"]]
    assert [key for key in keys if f"`{key}`" not in docs] == []
    assert [s.id for s in schedule.series if f"`{s.id}`" not in docs] == []
    assert [c for c in ("A", "B", "C-n", "ephemeral") if f"`{c}`" not in docs] == []


@pytest.mark.parametrize("name", ["archiver.retention", "archiver.retention.schedule"])
def test_public_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-20, 20) | st.sampled_from(["any", "permanent", "C-3", "A", "review", "x", "post", "", "2026-11-25"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["id", "class", "match", "kind", "series", "retention", "by_department"]), children, max_size=4),
    max_leaves=12,
)


@given(path_index=st.integers(0, 200), value=json_values)
def test_any_damage_to_a_schedule_is_reported_as_config_error(path_index: int, value: object) -> None:
    data = yaml.safe_load(MINIMAL)
    places: list[tuple[object, object]] = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            places.extend((node, key) for key in node)
            for item in node.values():
                collect(item)
        elif isinstance(node, list):
            places.extend((node, index) for index in range(len(node)))
            for item in node:
                collect(item)

    collect(data)
    container, key = places[path_index % len(places)]
    container[key] = value  # type: ignore[index]
    try:
        parse_schedule(yaml.safe_dump(data, sort_keys=False))
    except ConfigError as exc:
        assert exc.message.strip()
