"""Run a DAG of ``dags/`` with ``dag.test()`` against a fresh Airflow metadata database, in a
process of its own, and print what became of each run as one JSON line per run.

    python -m tests.airflow_dag_run DAG_ID [RUNS] [--retry-delay-seconds SECONDS]

Airflow reads its settings (``AIRFLOW_HOME``, ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``,
connections as ``AIRFLOW_CONN_*``) when first imported and configures logging for the whole
process, so the tests run it here rather than inside pytest. Before each run after the first it
waits for a line on stdin, a JSON object of environment variables to set (a connection added):
the test changes the world in between.

``dag.test()`` retries a failed task as the scheduler does: the task waits in ``up_for_retry``
until its retry delay has passed, then runs again. ``--retry-delay-seconds`` gives every task
of the DAG that first delay in place of its own (minutes in production), so that a test can see
a retry; the number of retries, the exponential backoff and the retry policy stay the DAG's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from typing import Any


def main(dag_id: str, runs: int, retry_delay_seconds: float | None = None) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    started = time.monotonic()
    db.resetdb()
    emit({"event": "metadata database ready", "seconds": round(time.monotonic() - started, 2)})
    bag = DagBag()
    if bag.import_errors:
        emit({"event": "import errors", "errors": {str(k): str(v) for k, v in bag.import_errors.items()}})
        raise SystemExit(1)
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"no DAG {dag_id} in {sorted(bag.dag_ids)}"
    if retry_delay_seconds is not None:
        for task in dag.tasks:
            task.retry_delay = timedelta(seconds=retry_delay_seconds)
    for number in range(runs):
        if number:
            os.environ.update(json.loads(sys.stdin.readline()))
        started = time.monotonic()
        run = dag.test()
        instances = task_instances(run)
        emit({
            "event": "run", "state": str(run.state), "seconds": round(time.monotonic() - started, 2),
            "tasks": {name: state for name, (state, _tries) in instances.items()}, "tries": {name: tries for name, (_state, tries) in instances.items()},
        })


def task_instances(run: Any) -> dict[str, tuple[str, int]]:
    """Each task instance of the run (``task[map index]`` when mapped): its state, and how many
    times it ran (its try number)."""
    from airflow import settings

    assert settings.Session is not None, "Airflow's ORM is not configured"
    session = settings.Session()
    try:
        return {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): (str(ti.state), int(ti.try_number))
            for ti in run.get_task_instances(session=session)
        }
    finally:
        session.close()


def emit(value: dict[str, Any]) -> None:
    # a prefix the test finds among Airflow's own lines on stdout
    print("SANGRAH-DAG-RUN " + json.dumps(value), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.airflow_dag_run")
    parser.add_argument("dag_id")
    parser.add_argument("runs", nargs="?", type=int, default=1)
    parser.add_argument("--retry-delay-seconds", type=float, default=None)
    arguments = parser.parse_args()
    main(arguments.dag_id, arguments.runs, arguments.retry_delay_seconds)
