"""The deadline calculator against cases worked by hand, and the timeline file's error messages.

Every case counts calendar days with the day of the anchor excluded (GCA s.9): "day 1" is the
day after receipt. Dates are IST calendar days; instants are written in IST and compared in UTC.
Weekdays were read off a 2026 calendar: 1 Apr Wed, 11 Apr Sat, 19 Apr Sun, 1 May Fri, 3 May
Sun, 10 May Sun, 8 Aug Sat, 15 Aug Sat, 2 Oct Fri.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.errors import ConfigError
from archiver.rti.deadlines import IST, CaseFacts, Deadlines, Pause, compute_deadlines
from archiver.rti.timelines import DEFAULT_TIMELINES_PATH, Timelines, load_timelines, parse_timelines

TIMELINES = load_timelines()
LATER = datetime(2030, 1, 1, tzinfo=timezone.utc)  # long after every case: each period has run


def ist(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST).astimezone(timezone.utc)


def with_settings(**values: object) -> Timelines:
    return replace(TIMELINES, settings=replace(TIMELINES.settings, **values))  # type: ignore[arg-type]


def compute(now: datetime = LATER, timelines: Timelines = TIMELINES, **facts: object) -> Deadlines:
    return compute_deadlines(CaseFacts(**facts), timelines, now)  # type: ignore[arg-type]


# -- the reply under s.7(1) -----------------------------------------------------------------------
def test_standard_reply_is_due_30_days_after_the_day_of_receipt() -> None:
    # received Mon 02/03/2026 10:00 IST; day 1 = 3 Mar ... 31 Mar is day 29, 1 Apr day 30.
    # The period runs out at midnight IST ending 1 Apr: 02/04/2026 00:00 IST = 01/04/2026 18:30 UTC.
    reply = compute(received_at=ist(2026, 3, 2), now=ist(2026, 3, 5)).reply
    assert (reply.rule, reply.cite, reply.due_on) == ("reply_standard", "RTI s.7(1)", date(2026, 4, 1))
    assert reply.expires_at == datetime(2026, 4, 1, 18, 30, tzinfo=timezone.utc)
    assert reply.basis == "30 days from receipt on 02/03/2026"


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # 31/01/2026: 1..28 Feb are days 1..28, 1 Mar day 29, 2 Mar day 30 (2026 is not a leap year)
        (ist(2026, 1, 31), date(2026, 3, 2)),
        # 31/01/2028: 1..29 Feb are days 1..29 (leap year), 1 Mar day 30
        (ist(2028, 1, 31), date(2028, 3, 1)),
        # received on the leap day 29/02/2028: 1..30 Mar are days 1..30
        (ist(2028, 2, 29), date(2028, 3, 30)),
        # 30/11/2026: 1..31 Dec are days 1..31, so day 30 is 30 Dec, across no month end
        (ist(2026, 11, 30), date(2026, 12, 30)),
        # 2026-01-31 20:00 UTC is 01/02/2026 01:30 IST: the day of receipt is 1 Feb, not 31 Jan.
        # 2..28 Feb are days 1..27, 1 Mar day 28, 2 Mar day 29, 3 Mar day 30.
        (datetime(2026, 1, 31, 20, 0, tzinfo=timezone.utc), date(2026, 3, 3)),
    ],
    ids=["month-end", "leap-february", "leap-day-receipt", "december", "ist-date-not-utc-date"],
)
def test_month_ends_and_leap_years(received: datetime, due: date) -> None:
    assert compute(received_at=received).reply.due_on == due


def test_48_hours_run_in_hours_across_midnight_ist() -> None:
    # received 11/06/2026 00:30 IST (10/06/2026 19:00 UTC): 48 h later is 13/06/2026 00:30 IST,
    # 12/06/2026 19:00 UTC. The last day is 13 June in IST, though the UTC date is 12 June.
    reply = compute(received_at=datetime(2026, 6, 10, 19, 0, tzinfo=timezone.utc), life_liberty=True).reply
    assert (reply.rule, reply.cite) == ("reply_life_liberty", "RTI s.7(1) proviso")
    assert reply.expires_at == datetime(2026, 6, 12, 19, 0, tzinfo=timezone.utc)
    assert reply.due_on == date(2026, 6, 13)
    # received 10/06/2026 22:30 IST: 48 h later is 12/06/2026 22:30 IST, two calendar days on
    late_evening = compute(received_at=ist(2026, 6, 10, 22, 30), life_liberty=True).reply
    assert (late_evening.expires_at, late_evening.due_on) == (ist(2026, 6, 12, 22, 30), date(2026, 6, 12))


def test_apio_adds_five_days_to_the_30() -> None:
    # given to an APIO on 02/03/2026: 30 + 5 = 35 days; 3..31 Mar are days 1..29, 1..6 Apr days 30..35
    reply = compute(received_at=ist(2026, 3, 2), via_apio=True).reply
    assert reply.due_on == date(2026, 4, 6)
    assert reply.cite == "RTI s.7(1); RTI s.5(2) proviso"
    assert reply.basis == "30 days from receipt on 02/03/2026; 5 days for an APIO"


def test_apio_does_not_extend_48_hours_unless_the_setting_says_so() -> None:
    # via an APIO, life or liberty, received 10/06/2026 10:00 IST: by default still 48 h,
    # 12/06/2026 10:00 IST; with apio_extends_life_liberty: 48 h + 5 days = 17/06/2026 10:00 IST
    default = compute(received_at=ist(2026, 6, 10), life_liberty=True, via_apio=True)
    assert default.reply.expires_at == ist(2026, 6, 12)
    assert default.notes == ("received via an APIO: the 5 days of s.5(2) are not added to the 48 hours (setting apio_extends_life_liberty)",)
    extended = compute(received_at=ist(2026, 6, 10), life_liberty=True, via_apio=True, timelines=with_settings(apio_extends_life_liberty=True))
    assert extended.reply.expires_at == ist(2026, 6, 17)


# -- the fee pause of s.7(3)(a) -------------------------------------------------------------------
def test_fee_pause_adds_the_days_between_intimation_and_payment() -> None:
    # received 02/03/2026, due 01/04/2026 without a pause. Fee intimation despatched 10/03, fee
    # paid 20/03: 20 - 10 = 10 days excluded, so 1 Apr + 10 = 11/04/2026, a Saturday, and the
    # PIO's last day is not moved past a closed day.
    deadlines = compute(received_at=ist(2026, 3, 2), fee_pauses=(Pause(ist(2026, 3, 10, 15), ist(2026, 3, 20, 11)),))
    assert deadlines.reply.due_on == date(2026, 4, 11)
    assert deadlines.paused_days == 10
    assert deadlines.reply.cite == "RTI s.7(1); RTI s.7(3)(a)"
    assert deadlines.reply.moved_from is None


def test_an_unpaid_fee_leaves_the_reply_paused_and_nothing_deemed_refused() -> None:
    # intimation 10/03/2026, unpaid on 05/04/2026 (after the unpaused date 01/04): the period
    # is paused with 1 Apr - 10 Mar = 22 days left, so no deemed refusal and nothing is free.
    deadlines = compute(received_at=ist(2026, 3, 2), fee_pauses=(Pause(ist(2026, 3, 10)),), now=ist(2026, 4, 5))
    assert deadlines.reply.paused and deadlines.reply.due_on is None
    assert "22 days remain once the fee is paid" in deadlines.reply.basis
    assert deadlines.deemed_refusal_at is None and not deadlines.late_is_free
    assert deadlines.first_appeal is None
    # paid 25/03: 15 days paused, 1 Apr + 15 = 16/04/2026
    paid = compute(received_at=ist(2026, 3, 2), fee_pauses=(Pause(ist(2026, 3, 10), ist(2026, 3, 25)),))
    assert paid.reply.due_on == date(2026, 4, 16)


def test_fee_pause_in_hours_for_the_48_hour_limit() -> None:
    # received 10/06/2026 10:00 IST (life or liberty): 48 h end 12/06 10:00. Intimation at
    # 10/06 16:00, paid 11/06 12:00: 20 h excluded, so 12/06 10:00 + 20 h = 13/06/2026 06:00 IST.
    reply = compute(received_at=ist(2026, 6, 10), life_liberty=True, fee_pauses=(Pause(ist(2026, 6, 10, 16), ist(2026, 6, 11, 12)),)).reply
    assert reply.expires_at == ist(2026, 6, 13, 6)
    assert "20 h of fee pause" in reply.basis


def test_an_intimation_after_the_period_ran_out_pauses_nothing() -> None:
    # due 01/04/2026; an intimation of 05/04 cannot stop a clock that has already stopped
    deadlines = compute(received_at=ist(2026, 3, 2), fee_pauses=(Pause(ist(2026, 4, 5), ist(2026, 4, 8)),))
    assert deadlines.reply.due_on == date(2026, 4, 1)
    assert deadlines.late_is_free


# -- transfer and third parties -------------------------------------------------------------------
def test_a_transferred_request_counts_from_the_transferees_receipt() -> None:
    # another authority received it on 02/03/2026 and transferred it; this authority received it
    # on 06/03/2026. Its 30 days run from 6 Mar: 7..31 Mar are days 1..25, 1..5 Apr days 26..30,
    # so 05/04/2026 (a Sunday, not moved). Transferring it on again is due 6 Mar + 5 = 11/03/2026.
    deadlines = compute(received_at=ist(2026, 3, 6))
    assert deadlines.reply.due_on == date(2026, 4, 5)
    assert (deadlines.transfer.rule, deadlines.transfer.due_on, deadlines.transfer.cite) == ("transfer", date(2026, 3, 11), "RTI s.6(3) proviso")
    assert deadlines.transfer.conditional


def test_third_party_consultation_notice_representation_and_40_days() -> None:
    # received 02/03/2026: notice due by 2 Mar + 5 = 07/03; given 05/03 (in time). The third
    # party received it 09/03: representation due 9 Mar + 10 = 19/03/2026. The decision is due
    # 40 days from receipt: 3..31 Mar are days 1..29, 1..11 Apr days 30..40, so 11/04/2026.
    deadlines = compute(received_at=ist(2026, 3, 2), third_party=True, third_party_notice_at=ist(2026, 3, 5), third_party_received_on=date(2026, 3, 9))
    assert deadlines.third_party_notice is not None and deadlines.third_party_notice.due_on == date(2026, 3, 7)
    assert not deadlines.third_party_notice.met_late
    assert deadlines.third_party_reply is not None
    assert (deadlines.third_party_reply.due_on, deadlines.third_party_reply.cite) == (date(2026, 3, 19), "RTI s.11(2)")
    assert (deadlines.reply.rule, deadlines.reply.due_on) == ("third_party_decision", date(2026, 4, 11))
    assert deadlines.reply.cite.startswith("RTI s.11(3)")


def test_a_late_third_party_notice_is_marked_late() -> None:
    # notice due 07/03/2026, given 09/03/2026
    deadlines = compute(received_at=ist(2026, 3, 2), third_party=True, third_party_notice_at=ist(2026, 3, 9))
    assert deadlines.third_party_notice is not None and deadlines.third_party_notice.met_late
    assert deadlines.third_party_reply is not None and deadlines.third_party_reply.due_on is None


def test_apio_and_the_40_days() -> None:
    # via an APIO on 02/03/2026 with a third party: 40 days by default (11/04/2026); with the
    # setting apio_extends_third_party_decision, 45 days: 12..16 Apr are days 41..45, 16/04/2026
    assert compute(received_at=ist(2026, 3, 2), third_party=True, via_apio=True).reply.due_on == date(2026, 4, 11)
    extended = with_settings(apio_extends_third_party_decision=True)
    assert compute(received_at=ist(2026, 3, 2), third_party=True, via_apio=True, timelines=extended).reply.due_on == date(2026, 4, 16)


def test_third_party_appeal_window_after_an_order_to_disclose() -> None:
    # order of 11/04/2026 disclosing third-party information: 12..30 Apr are days 1..19,
    # 1..11 May days 20..30, so 11/05/2026 (Monday) under s.19(2)
    deadlines = compute(received_at=ist(2026, 3, 2), third_party=True, decided_at=ist(2026, 4, 11, 12), discloses_third_party=True)
    assert deadlines.third_party_appeal is not None
    assert (deadlines.third_party_appeal.due_on, deadlines.third_party_appeal.cite) == (date(2026, 5, 11), "RTI s.19(2)")


# -- deemed refusal and appeals -------------------------------------------------------------------
def test_deemed_refusal_opens_the_first_appeal_from_the_expiry() -> None:
    # received 02/03/2026, no decision by 01/04: deemed refused at 02/04/2026 00:00 IST
    # (01/04 18:30 UTC); the information is then free (s.7(6)). The first appeal lies within 30
    # days of the expiry: 2..30 Apr are days 1..29, 1 May day 30: 01/05/2026, a Friday.
    deadlines = compute(received_at=ist(2026, 3, 2), now=ist(2026, 4, 10))
    assert deadlines.deemed_refusal_at == datetime(2026, 4, 1, 18, 30, tzinfo=timezone.utc)
    assert deadlines.deemed_refusal_cite == "RTI s.7(2)"
    assert deadlines.late_is_free and deadlines.late_is_free_cite == "RTI s.7(6)"
    assert deadlines.first_appeal is not None
    assert (deadlines.first_appeal.due_on, deadlines.first_appeal.cite) == (date(2026, 5, 1), "RTI s.19(1)")
    assert not deadlines.first_appeal.conditional
    assert deadlines.reply.overdue(ist(2026, 4, 10))


def test_nothing_is_deemed_refused_before_the_period_runs_out() -> None:
    # on 01/04/2026 23:59 IST the last day has not ended
    deadlines = compute(received_at=ist(2026, 3, 2), now=ist(2026, 4, 1, 23, 59))
    assert deadlines.deemed_refusal_at is None and not deadlines.late_is_free
    assert deadlines.first_appeal is not None and deadlines.first_appeal.conditional


def test_first_appeal_from_the_receipt_of_the_decision() -> None:
    # decided 20/03/2026, received by the applicant 24/03: 25..31 Mar are days 1..7,
    # 1..23 Apr days 8..30, so 23/04/2026 (Thursday)
    deadlines = compute(received_at=ist(2026, 3, 2), decided_at=ist(2026, 3, 20), decision_received_on=date(2026, 3, 24))
    assert deadlines.first_appeal is not None and deadlines.first_appeal.due_on == date(2026, 4, 23)
    assert deadlines.deemed_refusal_at is None and not deadlines.late_is_free


def test_an_appeal_due_on_a_sunday_moves_to_monday() -> None:
    # decided 20/03/2026, receipt not recorded: 21..31 Mar are days 1..11, 1..19 Apr days
    # 12..30: 19/04/2026 is a Sunday, so the applicant has until Monday 20/04/2026 (GCA s.10)
    appeal = compute(received_at=ist(2026, 3, 2), decided_at=ist(2026, 3, 20)).first_appeal
    assert appeal is not None
    assert (appeal.due_on, appeal.moved_from) == (date(2026, 4, 20), date(2026, 4, 19))
    assert appeal.cite == "RTI s.19(1); GCA s.10"


def test_a_late_decision_is_still_a_deemed_refusal_and_the_later_window_counts() -> None:
    # due 01/04/2026, decided 03/04/2026: deemed refused at the expiry, information free. The
    # appeal runs from the later of the expiry (01/04 + 30 = 01/05) and the decision (03/04 +
    # 30 = 03/05, a Sunday, so Monday 04/05/2026).
    deadlines = compute(received_at=ist(2026, 3, 2), decided_at=ist(2026, 4, 3))
    assert deadlines.deemed_refusal_at == datetime(2026, 4, 1, 18, 30, tzinfo=timezone.utc)
    assert deadlines.late_is_free and deadlines.reply.met_late
    assert deadlines.first_appeal is not None and deadlines.first_appeal.due_on == date(2026, 5, 4)


def test_faa_disposal_30_days_from_receipt_not_moved_past_a_sunday() -> None:
    # appeal received 10/04/2026: 11..30 Apr are days 1..20, 1..10 May days 21..30, so
    # 10/05/2026, a Sunday: the FAA's own date does not move
    faa = compute(received_at=ist(2026, 3, 2), decided_at=ist(2026, 3, 20), first_appeal_at=ist(2026, 4, 10)).faa_disposal
    assert faa is not None
    assert (faa.rule, faa.due_on, faa.moved_from, faa.cite) == ("faa_disposal", date(2026, 5, 10), None, "RTI s.19(6)")


def test_faa_disposal_45_days_with_reasons_in_writing() -> None:
    # filed 10/04/2026, reasons for the delay recorded: 11..30 Apr are days 1..20,
    # 1..25 May days 21..45, so 25/05/2026
    faa = compute(received_at=ist(2026, 3, 2), decided_at=ist(2026, 3, 20), first_appeal_at=ist(2026, 4, 10), faa_reasons_recorded=True).faa_disposal
    assert faa is not None
    assert (faa.rule, faa.due_on, faa.cite) == ("faa_disposal_extended", date(2026, 5, 25), "RTI s.19(6) (reasons recorded in writing)")


def test_second_appeal_from_the_date_the_faa_should_have_decided() -> None:
    # the FAA should have decided by 10/05/2026 and did not: 11..31 May are days 1..21, June
    # days 22..51, July days 52..82, 1..8 Aug days 83..90: 08/08/2026 is a Saturday, so the
    # applicant has until Monday 10/08/2026
    second = compute(received_at=ist(2026, 3, 2), decided_at=ist(2026, 3, 20), first_appeal_at=ist(2026, 4, 10)).second_appeal
    assert second is not None
    assert (second.due_on, second.moved_from, second.cite) == (date(2026, 8, 10), date(2026, 8, 8), "RTI s.19(3); GCA s.10")


def test_second_appeal_from_the_receipt_of_the_faa_decision() -> None:
    # the FAA decided, and the applicant received it on 05/05/2026: 6..31 May are days 1..26,
    # June days 27..56, July days 57..87, 1..3 Aug days 88..90: 03/08/2026 (Monday)
    second = compute(
        received_at=ist(2026, 3, 2), decided_at=ist(2026, 3, 20), first_appeal_at=ist(2026, 4, 10),
        faa_decided_at=ist(2026, 5, 4), faa_decision_received_on=date(2026, 5, 5),
    ).second_appeal
    assert second is not None and second.due_on == date(2026, 8, 3)


def test_a_holiday_on_a_weekday_moves_the_filers_day_over_the_weekend() -> None:
    # decision received 02/09/2026: 3..30 Sep are days 1..28, 1..2 Oct days 29..30. 02/10/2026 is
    # Gandhi Jayanti (a Friday), 3 and 4 Oct the weekend: the appeal is in time on Monday 05/10/2026.
    appeal = compute(received_at=ist(2026, 8, 10), decided_at=ist(2026, 9, 1), decision_received_on=date(2026, 9, 2)).first_appeal
    assert appeal is not None
    assert (appeal.due_on, appeal.moved_from) == (date(2026, 10, 5), date(2026, 10, 2))
    assert "Gandhi Jayanti" in appeal.basis


def test_the_pios_last_day_is_not_moved_past_a_holiday_unless_set() -> None:
    # received 16/07/2026: 17..31 Jul are days 1..15, 1..15 Aug days 16..30: 15/08/2026 is
    # Independence Day (a Saturday). The PIO's date stays 15/08; with pio_deadlines_roll_forward
    # it moves to Monday 17/08/2026.
    assert compute(received_at=ist(2026, 7, 16)).reply.due_on == date(2026, 8, 15)
    rolled = compute(received_at=ist(2026, 7, 16), timelines=with_settings(pio_deadlines_roll_forward=True)).reply
    assert (rolled.due_on, rolled.moved_from) == (date(2026, 8, 17), date(2026, 8, 15))


def test_every_deadline_carries_its_rule_and_citation() -> None:
    deadlines = compute(
        received_at=ist(2026, 3, 2), third_party=True, third_party_notice_at=ist(2026, 3, 4), third_party_received_on=date(2026, 3, 6),
        decided_at=ist(2026, 4, 2), discloses_third_party=True, first_appeal_at=ist(2026, 4, 20),
    )
    rules = [d.rule for d in deadlines]
    assert rules == ["third_party_decision", "transfer", "third_party_notice", "third_party_reply", "third_party_appeal", "first_appeal", "faa_disposal", "second_appeal"]
    for deadline in deadlines:
        assert deadline.cite.startswith("RTI s."), deadline
        assert deadline.due_on is not None and deadline.expires_at is not None
        assert deadline.expires_at.tzinfo is not None and deadline.expires_at.utcoffset() == timedelta(0)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="received_at 2026-03-02T10:00:00 has no time zone"):
        CaseFacts(received_at=datetime(2026, 3, 2, 10, 0))


# -- properties over any instant -----------------------------------------------------------------
_INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(timezone.utc))


@settings(max_examples=200, deadline=None)
@given(received=_INSTANTS, pause_days=st.integers(0, 60), pause_start_days=st.integers(0, 29))
def test_the_reply_counts_30_ist_days_and_a_pause_only_adds(received: datetime, pause_days: int, pause_start_days: int) -> None:
    plain = compute(received_at=received).reply
    assert plain.due_on is not None and plain.expires_at is not None
    assert plain.due_on - received.astimezone(IST).date() == timedelta(days=30)
    # the period runs out at an IST midnight, between 30 and 31 days after receipt
    assert plain.expires_at.astimezone(IST).time() == datetime.min.time()
    assert timedelta(days=30) < plain.expires_at - received <= timedelta(days=31)
    start = received + timedelta(days=pause_start_days)
    paused = compute(received_at=received, fee_pauses=(Pause(start, start + timedelta(days=pause_days)),)).reply
    # the same time of day at both ends: exactly pause_days whole IST days are added
    assert paused.due_on is not None and (paused.due_on - plain.due_on).days == pause_days


@settings(max_examples=200, deadline=None)
@given(decided=_INSTANTS)
def test_a_filers_last_day_is_always_an_open_day(decided: datetime) -> None:
    received = decided - timedelta(days=3)
    appeal = compute(received_at=received, decided_at=decided).first_appeal
    assert appeal is not None and appeal.due_on is not None
    assert TIMELINES.calendar.closed(appeal.due_on) is None
    assert (appeal.moved_from is None) == (appeal.due_on == decided.astimezone(IST).date() + timedelta(days=30))


# -- the timeline file ----------------------------------------------------------------------------
def _edited(*changes: tuple[str, str]) -> str:
    text = DEFAULT_TIMELINES_PATH.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_a_changed_period_changes_the_due_date() -> None:
    timelines = parse_timelines(_edited(("    period: 30\n    unit: day\n    anchor: receipt\n", "    period: 20\n    unit: day\n    anchor: receipt\n")))
    assert compute_deadlines(CaseFacts(received_at=ist(2026, 3, 2)), timelines, LATER).reply.due_on == date(2026, 3, 22)


def test_every_problem_in_the_timelines_is_named_with_its_line() -> None:
    text = _edited(
        ("    period: 30\n    unit: day\n    anchor: receipt\n", "    period: thirty\n    unit: days\n    anchor: receipt_by_pio\n"),
        ("    value: false\n", "    value: no\n    valu: false\n"),
        ("{date: 2026-08-15, name: Independence Day}", "{date: 15-08-2026, name: Independence Day}"),
    )
    with pytest.raises(ConfigError) as caught:
        parse_timelines(text, "rti_timelines.yaml")
    assert caught.value.message == (
        "rti_timelines.yaml has 5 problem(s):\n"
        "  - rules.reply_standard.period (line 24): found 'thirty'; allowed: a whole number from 1 upward. Write the number alone, without units: period: 30.\n"
        "  - rules.reply_standard.unit (line 25): found 'days'; allowed: day, hour. Periods are counted in calendar days (day) or, for the 48-hour rule, in hours (hour).\n"
        "  - rules.reply_standard.anchor (line 26): found 'receipt_by_pio'; allowed: receipt. The calculator counts this rule as the Act does; write anchor: receipt (docs/rti.md).\n"
        "  - settings.pio_deadlines_roll_forward.valu (line 182): found an unknown key; allowed: value, status, cite, question, default_because. Did you mean value? Check its spelling against docs/rti.md.\n"
        "  - office_closed.dates[1].date (line 224): found '15-08-2026'; allowed: a date written YYYY-MM-DD. Write the date as year-month-day, e.g. 2026-08-15 (not 15-08-2026)."
    )


def test_a_missing_rule_and_a_duplicate_key_are_named(tmp_path: Path) -> None:
    text = _edited(("  late_is_free:\n", "  late_is_fre:\n"), ("    period: 48\n", "    period: 48\n    period: 24\n"))
    with pytest.raises(ConfigError) as caught:
        parse_timelines(text, "rti_timelines.yaml")
    message = caught.value.message
    assert "  - rules.reply_life_liberty.period (line 35): found period a second time; allowed: each key once in a mapping." in message
    assert "  - rules.late_is_free (line 22): found nothing; allowed: the rule as the default file writes it. Add late_is_free. Keep every rule of the default file; change a period, never remove a rule." in message
    assert "rules.late_is_fre (line 108): found an unknown key" in message and "Did you mean late_is_free?" in message
    missing = tmp_path / "none.yaml"
    with pytest.raises(ConfigError, match=f"cannot read the RTI timelines {missing}: No such file or directory. Give the path of an existing timelines file"):
        load_timelines(missing)
