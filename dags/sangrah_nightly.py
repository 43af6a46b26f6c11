"""sangrah_nightly: every active account harvested, extracted and verified, at 02:00 Asia/Kolkata.

begin, plan ─▶ per account (mapped): harvest ─▶ extract ─▶ index ─▶ verify ─▶ report

Each account is its own mapped task group: one account's failure stops only its own extract;
index, verify and report run whatever became of the accounts (trigger rule ``all_done``), and
report fails the run, after logging the night's summary, when any account failed. Transient
failures (a platform down, rate limits spent, the catalog restarted) are retried with exponential
backoff and resume where they stopped; a refused credential, a vanished account, a bad config or
a file that no longer matches the manifest fail at once, as retrying cannot mend them.

Set ``SANGRAH_CONFIG`` on the workers to the config file; credentials come from one Airflow
Connection per account (docs/deploy.md, "Airflow"). The tasks run ``archiver.pipeline.tasks``;
nothing here but the wiring.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import CronTriggerTimetable, ExceptionRetryPolicy, RetryAction, RetryRule, TriggerRule, dag, task, task_group

#: failures that no retry can mend
PERMANENT = ["archiver.errors.AuthError", "archiver.errors.AccountGone", "archiver.errors.ConfigError", "archiver.errors.FixityMismatch"]

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "records-cell",
    "retries": 3,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(hours=1),
    "retry_policy": ExceptionRetryPolicy(rules=[RetryRule(exception=PERMANENT, action=RetryAction.FAIL, reason="retrying cannot mend this; the task's log says what to do")]),
}


@dag(
    dag_id="sangrah_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Asia/Kolkata"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Kolkata"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["sangrah"],
    doc_md=__doc__,
)
def sangrah_nightly() -> None:
    @task
    def begin() -> str:
        from archiver.pipeline import tasks

        return tasks.begin()

    @task
    def plan() -> list[str]:
        from archiver.pipeline import tasks

        return tasks.plan()

    @task
    def harvest(account: str) -> dict[str, Any]:
        from archiver.pipeline import tasks

        return tasks.harvest(account)

    @task
    def extract(harvested: dict[str, Any]) -> dict[str, Any]:
        from archiver.pipeline import tasks

        return tasks.extract(harvested)

    @task_group
    def account(account: str) -> None:
        extract(harvest(account))

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def index() -> dict[str, Any]:
        from archiver.pipeline import tasks

        return tasks.index()

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def verify(started_at: str) -> dict[str, Any]:
        from archiver.pipeline import tasks

        return tasks.verify_night(started_at)

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def report(accounts: list[str], started_at: str) -> dict[str, Any]:
        from archiver.pipeline import tasks

        return tasks.report(accounts, started_at)

    started_at, keys = begin(), plan()
    accounts = account.expand(account=keys)
    started_at >> accounts
    verified = verify(started_at)
    accounts >> index() >> verified >> report(keys, started_at)


sangrah_nightly()
