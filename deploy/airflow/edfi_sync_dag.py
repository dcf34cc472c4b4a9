"""Nightly Ed-Fi sync: one Airflow task per connection (district and school year), mapped at run time.

`edfi-sync connections --format json` lists the connections of tonight's snapshot; dynamic task mapping starts one
`edfi-sync sync --connection KEY` task for each, side by side. Each task's exit code decides what Airflow does
(see EXIT_CODES below); its --summary-json goes to XCom.

Configuration (environment of the Airflow workers, or Airflow Variables of the same names):
  EDFI_SYNC_COMMAND   how to start the CLI, default "edfi-sync" (e.g. "docker run --rm ... edfi-rules-sync")
  EDFI_SYNC_PROFILE   state profile, default "core"
  EDFI_SYNC_SNAPSHOT  tonight's Campus snapshot (SQLite)
  EDFI_SYNC_STATE     state file, default /var/lib/edfi-sync/{profile}.sqlite. One file shared by the parallel tasks
                      works on ONE machine (LocalExecutor, or one worker host: SQLite locks do not cross machines).
                      With workers on several machines use one file per connection: /var/lib/edfi-sync/{connection}.sqlite
                      (refused for connections that share an ODS instance).
  EDFI_SYNC_TARGETS   targets file (API root, flavor and credential source per connection)
  EDFI_SYNC_SUMMARIES folder for the per-connection --summary-json files, default /var/lib/edfi-sync/summaries
Key and secret: the environment variables or files the targets file names, set on the workers (never in this file).
"""
from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
from datetime import datetime, timedelta

from airflow.decorators import dag, task
from airflow.exceptions import AirflowException, AirflowFailException

log = logging.getLogger(__name__)

# What each exit code of edfi-sync means for the task (README, "Exit codes").
EXIT_CODES = {
    0: "success",   # ok: everything the snapshot wants is in the ODS
    7: "success",   # heldBack: records held back by known data problems; they are in the error log
    1: "retry",     # apiFailed: some operations failed at the API; a retry resends them
    6: "retry",     # unreachable: API down or credentials refused
    5: "fail",      # refused: mass-delete guard or a lock held by another run; a person must look
    2: "fail",      # usage
    3: "fail",      # config: targets, profile, or missing credentials
    4: "fail",      # input: snapshot or state file unreadable
    70: "fail",     # internal: a bug
}


def setting(name: str, default: str | None = None) -> str:
    """An Airflow Variable, else the worker's environment, else the default."""
    try:
        from airflow.models import Variable

        value = Variable.get(name, default_var=None)
    except Exception:  # no metadata database (tests, parsing)
        value = None
    value = value or os.environ.get(name) or default
    if value is None:
        raise AirflowFailException(f"{name} is not set")
    return value


def base_command() -> list[str]:
    return shlex.split(setting("EDFI_SYNC_COMMAND", "edfi-sync"))


def common_args() -> list[str]:
    profile = setting("EDFI_SYNC_PROFILE", "core")
    return ["--profile", profile, "--snapshot", setting("EDFI_SYNC_SNAPSHOT"), "--targets", setting("EDFI_SYNC_TARGETS")]


def list_connections_now() -> list[dict]:
    """The connections of tonight's snapshot whose resource is toggled on."""
    out = subprocess.run(
        [*base_command(), "connections", *common_args(), "--format", "json", "--enabled-only"],
        check=True, capture_output=True, text=True,
    ).stdout
    return [{"key": c["key"], "districtNumber": c["districtNumber"], "schoolYear": c["schoolYear"]} for c in json.loads(out)]


def sync_connection_now(connection: dict) -> dict:
    """Runs the sync of one connection; returns its summary, or raises as its exit code says."""
    key = connection["key"]
    profile = setting("EDFI_SYNC_PROFILE", "core")
    summaries = setting("EDFI_SYNC_SUMMARIES", "/var/lib/edfi-sync/summaries")
    os.makedirs(summaries, exist_ok=True)
    summary_file = os.path.join(summaries, f"{profile}-{key.replace(':', '-')}.json")
    state = setting("EDFI_SYNC_STATE", f"/var/lib/edfi-sync/{profile}.sqlite")
    run = subprocess.run(
        [*base_command(), "sync", *common_args(), "--state", state, "--connection", key,
         "--log-format", "json", "--summary-json", summary_file],
        capture_output=True, text=True,
    )
    # The JSON log lines go to the task log as they are, for the log collector.
    for line in run.stderr.splitlines():
        log.info("%s", line)
    summary = json.loads(open(summary_file).read()) if os.path.exists(summary_file) else {"exitCode": run.returncode}
    action = EXIT_CODES.get(run.returncode, "fail")
    reason = summary.get("exitReason", run.returncode)
    if action == "success":
        if run.returncode == 7:
            log.warning("connection %s: records held back by data problems (see `edfi-sync errors --connection %s`)", key, key)
        return summary
    if action == "retry":
        raise AirflowException(f"connection {key}: {reason} (exit {run.returncode}); Airflow retries the task")
    raise AirflowFailException(f"connection {key}: {reason} (exit {run.returncode}); not retried: {summary.get('message', '')}")


@dag(
    dag_id="edfi_sync",
    schedule="30 2 * * *",  # after the nightly Campus export
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["ed-fi"],
)
def edfi_sync():
    @task
    def list_connections() -> list[dict]:
        return list_connections_now()

    # max_active_tis_per_dag bounds how many connections send at once (the ODS and the machine set the limit).
    @task(max_active_tis_per_dag=8)
    def sync_connection(connection: dict) -> dict:
        return sync_connection_now(connection)

    sync_connection.expand(connection=list_connections())


edfi_sync()
