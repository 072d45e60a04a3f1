"""Moving whole runs between stores: a sweep's workers evaluate into stores of their own and the driver,
the only writer of the sweep's store, copies each finished job's rows in one transaction.
"""

from __future__ import annotations

import json
from typing import Any

from harness.store import UNTAG_SAME_MODEL_AND_TASK, Store, utcnow

RUN_TABLES = ("runs", "metrics", "samples", "requests", "tags")
Bundle = dict[str, Any]  # table name -> pyarrow.Table of that table's rows


def all_run_ids(store: Store) -> list[str]:
    """Every run id in ``store`` (empty when it does not exist)."""
    with store.reading() as conn:
        if conn is None:
            return []
        return [row[0] for row in conn.execute("SELECT run_id FROM runs ORDER BY started_at").fetchall()]


def dump_runs(store: Store, run_ids: list[str]) -> Bundle:
    """The rows of ``run_ids`` in every run table, as Arrow tables (cheap to send between processes)."""
    with store.reading() as conn:
        if conn is None:
            return {}
        cursor = conn.cursor()  # a fresh cursor: relations refuse a connection with a pending result
        return {table: cursor.sql(f"SELECT * FROM {table} WHERE run_id IN (SELECT unnest($ids))",
                                  params={"ids": run_ids}).to_arrow_table() for table in RUN_TABLES}


def bundle_runs(bundle: Bundle) -> list[str]:
    """The run ids a bundle carries."""
    runs = bundle.get("runs")
    return [] if runs is None else [str(v) for v in runs.column("run_id").to_pylist()]


def record_job(store: Store, job: dict[str, Any], bundle: Bundle | None = None) -> None:
    """Write a sweep job's row and the runs it produced, all or nothing."""
    with store.writing() as conn:
        conn.execute("BEGIN TRANSACTION")
        for table, rows in (bundle or {}).items():
            if table == "tags":  # a tag names one run per model and task: a newer one moves it
                for tag, run_id in zip(rows.column("tag").to_pylist(), rows.column("run_id").to_pylist()):
                    conn.execute(UNTAG_SAME_MODEL_AND_TASK, [tag, run_id])
            if rows.num_rows:
                conn.register("bundle_rows", rows)
                conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM bundle_rows")
                conn.unregister("bundle_rows")
        row = job | {"run_ids": json.dumps(job.get("run_ids") or []), "recorded_at": utcnow()}
        columns = list(row)
        conn.execute(f"INSERT INTO sweep_jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [row[c] for c in columns])
        conn.execute("COMMIT")


def sweep_jobs(store: Store, sweep_id: str) -> list[dict[str, Any]]:
    """A sweep's job rows in job order."""
    with store.reading() as conn:
        if conn is None:
            return []
        cursor = conn.execute("SELECT * FROM sweep_jobs WHERE sweep_id = ? ORDER BY job", [sweep_id])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    return [row | {"run_ids": json.loads(row["run_ids"] or "[]")} for row in rows]
