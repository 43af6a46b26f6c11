"""sangrah_rti_daily: what the RTI cell owes, raised each morning at 09:00 Asia/Kolkata.

deemed_refusals
due ─▶ escalate

``deemed_refusals`` records the deemed refusal (RTI s.7(2)) of every request whose own reply
period (30 days, 48 hours, 40 days with a third party, with the APIO's days and fee pauses) ran
out with no decision: one ``deemed_refusal`` event per request, dated the instant the period ran
out, audited as the operator; a second run records nothing new (R2: "a timer emits
deemed_refusal"). ``sangrah rti due`` by hand records nothing unless given
``--record-deemed-refusals``.
``due`` lists every RTI request whose reply, appeal decision or third-party step is overdue, due
today or due within seven days, most urgent first, one log line each (the list the command
``sangrah rti due`` prints), and hands the list on. An overdue item is logged at WARNING with
whom it escalates to: the first appellate authority for an overdue reply (a deemed refusal,
RTI s.7(2), with the s.20(1) penalty risk), the head of the public authority for an overdue
appeal decision. ``escalate`` then fails, naming every overdue request, while anything is
overdue: the failed run is the alert, through whatever the deployment sets up for failed runs
(``email_on_failure``, an ``on_failure_callback``, a notifier; docs/deploy.md, "RTI daily"). It
fails every morning until each overdue item is acted on and recorded in the register.

Set ``SANGRAH_CONFIG`` on the workers (docs/deploy.md, "Airflow"). The tasks run
``archiver.pipeline.tasks``; nothing here but the wiring.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task


@dag(
    dag_id="sangrah_rti_daily",
    schedule=CronTriggerTimetable("0 9 * * *", timezone="Asia/Kolkata"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Kolkata"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "rti-cell", "retries": 2, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True},
    tags=["sangrah", "rti"],
    doc_md=__doc__,
)
def sangrah_rti_daily() -> None:
    @task
    def deemed_refusals() -> list[str]:
        from archiver.pipeline import tasks

        return tasks.rti_deemed_refusals()

    @task
    def due() -> dict[str, Any]:
        from archiver.pipeline import tasks

        return tasks.rti_due()

    @task(retries=0)  # an overdue request does not mend by waiting
    def escalate(listing: dict[str, Any]) -> dict[str, Any]:
        from archiver.pipeline import tasks

        return tasks.rti_escalate(listing)

    deemed_refusals()
    escalate(due())


sangrah_rti_daily()
