"""One sensor tick over a 10,000-row NocoDB table, against a full-table scan measured in the same run.

Starts (or reuses) the test NocoDB from tests/services, fills a table with 10,000 rows of which
`--pending` still need a video, and times: (a) one real evaluation of the `nocodb_rows` sensor;
(b) the baseline, reading all 10,000 rows page by page with no filter (what a naive poller does).
Besides wall time, the CPU seconds a tick costs, this process's and NocoDB's (from /proc): what a
shorter ``SENSOR_INTERVAL_S`` would cost per minute on a machine that also renders.

    .venv/bin/python benchmarks/sensor_tick.py [--rows 10000] [--pending 25] [--repeat 3] [--smoke]

``--smoke``: 200 rows, 5 of them pending, one tick.
"""

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import dagster as dg
import requests
from harness import arguments, write_report
from pydantic import SecretStr

from talking_head_dagster.definitions import build_definitions
from talking_head_dagster.settings import NocoDBSettings, Settings, TableSettings
from tests.services import nocodb, read_pid


def main() -> int:
    parser = arguments(__doc__, "sensor_tick")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--pending", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.pending, args.repeat = 200, 5, 1

    server = nocodb.ensure_running()
    table = nocodb.create_table(server, f"bench_{uuid.uuid4().hex[:8]}")
    try:
        return measure(args, server, table)
    finally:
        nocodb.delete_table(server, table)  # the test NocoDB does not grow with every run


def measure(args, server, table: str) -> int:
    rows = args.rows
    step = rows // max(args.pending, 1)
    pending = set(range(0, rows, step)[: args.pending])
    started = time.perf_counter()
    nocodb.insert_rows(
        server,
        table,
        [
            {
                "url": f"https://example.com/{i}.mp4",
                "content": f"Script {i}.",
                **({} if i in pending else {"chengpinurl": f"https://cdn.example.com/{i}.mp4"}),
            }
            for i in range(rows)
        ],
    )
    insert_seconds = time.perf_counter() - started

    os.environ["TALKING_HEAD_NOCODB__API_TOKEN"] = server.api_token
    defs = build_definitions(
        Settings(
            nocodb=NocoDBSettings(
                url=server.base_url, api_token=SecretStr(server.api_token), tables=[TableSettings(id=table)]
            )
        )
    )
    sensor = defs.resolve_sensor_def("nocodb_rows")

    ticks, scans, requested, cpu_ours, cpu_nocodb = [], [], 0, [], []
    nocodb_pid = read_pid(nocodb.pid_file())
    for _ in range(args.repeat):
        with (
            dg.instance_for_test(temp_dir=tempfile.mkdtemp()) as instance,
            dg.build_sensor_context(instance=instance, definitions=defs, resources=defs.resources) as context,
        ):
            t0, c0, n0 = time.perf_counter(), time.process_time(), _cpu_seconds(nocodb_pid)
            result = sensor(context)
            ticks.append(time.perf_counter() - t0)
            cpu_ours.append(time.process_time() - c0)
            cpu_nocodb.append(_cpu_seconds(nocodb_pid) - n0)
            requested = len(result.run_requests)
        t0 = time.perf_counter()
        for offset in range(0, rows, 1000):
            response = requests.get(
                f"{server.base_url}/api/v2/tables/{table}/records",
                params={"limit": 1000, "offset": offset},
                headers={"xc-token": server.api_token},
                timeout=120,
            )
            response.raise_for_status()
        scans.append(time.perf_counter() - t0)

    tick, scan = statistics.median(ticks), statistics.median(scans)
    report = {
        "rows": rows,
        "pending": len(pending),
        "runs_requested": requested,
        "insert_seconds": round(insert_seconds, 1),
        "tick_seconds_median": round(tick, 3),
        "full_scan_seconds_median": round(scan, 3),
        "tick_vs_full_scan": round(tick / scan, 3),
        "share_of_60s_sensor_timeout": round(tick / 60, 4),
        "tick_cpu_seconds_median": {
            "sensor": round(statistics.median(cpu_ours), 3),
            "nocodb": round(statistics.median(cpu_nocodb), 3),
        },
    }
    write_report(args, report)
    return 0


def _cpu_seconds(pid: int | None) -> float:
    """User plus system CPU seconds of process ``pid`` so far (0 when unknown)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    sys.exit(main())
