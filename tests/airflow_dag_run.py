"""Run a DAG of ``dags/`` with ``dag.test()`` against a fresh Airflow metadata database, in a
process of its own, and print what became of each run as one JSON line per run.

    python -m tests.airflow_dag_run DAG_ID [RUNS]

Airflow reads its settings (``AIRFLOW_HOME``, ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``,
connections as ``AIRFLOW_CONN_*``) when first imported and configures logging for the whole
process, so the tests run it here rather than inside pytest. Before each run after the first it
waits for a line on stdin, a JSON object of environment variables to set (a connection added):
the test changes the world in between.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def main(dag_id: str, runs: int) -> None:
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
    for number in range(runs):
        if number:
            os.environ.update(json.loads(sys.stdin.readline()))
        started = time.monotonic()
        run = dag.test()
        emit({"event": "run", "state": str(run.state), "seconds": round(time.monotonic() - started, 2), "tasks": task_states(run)})


def task_states(run: Any) -> dict[str, str]:
    from airflow import settings

    assert settings.Session is not None, "Airflow's ORM is not configured"
    session = settings.Session()
    try:
        return {(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(ti.state) for ti in run.get_task_instances(session=session)}
    finally:
        session.close()


def emit(value: dict[str, Any]) -> None:
    # a prefix the test finds among Airflow's own lines on stdout
    print("SANGRAH-DAG-RUN " + json.dumps(value), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
