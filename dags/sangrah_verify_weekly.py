"""sangrah_verify_weekly: fixity of the whole archive, Sundays at 03:00 Asia/Kolkata.

Every published WARC file is re-hashed and re-read against the manifest, every Parquet file of
the record dataset re-hashed against the Parquet manifest, and any file in the store or dataset
that the manifest does not list is reported. A mismatch fails the task at once (no retry: the
bytes will not mend themselves), each problem on an ERROR line of its log. Set
``SANGRAH_CONFIG`` on the workers (docs/deploy.md, "Airflow").
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task


@dag(
    dag_id="sangrah_verify_weekly",
    schedule=CronTriggerTimetable("0 3 * * 0", timezone="Asia/Kolkata"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Kolkata"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "records-cell", "retries": 0},
    tags=["sangrah"],
    doc_md=__doc__,
)
def sangrah_verify_weekly() -> None:
    @task
    def fixity() -> dict[str, Any]:
        from archiver.pipeline import tasks

        return tasks.fixity()

    fixity()


sangrah_verify_weekly()
