"""Orchestration overhead per record, and throughput of 5 rows at once, for both deployment shapes.

    .venv/bin/python benchmarks/deployment_overhead.py [--mode embedded|production|served|all] [--rows 5] [--smoke]

Each mode is driven only through NocoDB, as users drive it: rows are inserted into a real NocoDB
table and the real dagster-daemon renders them (S3 results on SeaweedFS, both from tests/services):

- ``embedded``: the single location (workspace.yaml, python_module), SQLite, the repo's dagster.yaml.
- ``production``: both code locations as gRPC code servers (compose.yaml's commands) on the machine's
  PostgreSQL with deploy/dagster.yaml (tests/support/production.py: the local run launcher in place
  of Docker's), intermediates in S3: three runs per row.
- ``served``: the same, with deploy/compose.served.yaml over compose.yaml: one code location and one
  run per row, the avatar rendered by an avatar server. No GPU here: the server holds the tests'
  stand-in FlashHead checkout (its frames are not a face; its speed is not FlashHead's), so compare
  this mode's overhead, not its avatar stage.

Phase 0, the daemon's first row (the runs' warm process starts with it). Phase 1, one row speaking
a ~30 s script, as a daemon that has been up a while meets it: wall time from the sensor tick that
requested its first run to the row's nocodb_sync materialisation, minus the stages' own times (each
materialisation's ``stage_seconds``), and where the rest went (queue and launch, run start-up until
the first step, the hand-offs between runs), with each run process's peak memory (and its child
processes', FFmpeg's). Phase 2: ``--rows`` rows at once (the same script): rows per minute.
``--instance FILE`` runs the embedded shape on another dagster.yaml (an earlier one, to compare in
one sitting). The report goes to ``benchmarks/out/deployment_overhead/<mode>[-<label>].json``.
``--smoke``: every mode (unless ``--mode`` says otherwise), a one-sentence script, sensors every
second, no phase 2 (phases 0 and 1 are summarised as batches of one, as in every run).
"""

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
from harness import arguments, write_report
from pipeline_stages import SCRIPT_30S, SCRIPT_SMOKE
from process_memory import TreeMemory

from talking_head_dagster.launcher.protocol import ZYGOTE_MODULE

STAGES = ["source_video", "tts_audio", "avatar_video", "composite", "public_url", "nocodb_sync"]


def settings_env(
    work: Path, nocodb_server, s3_server, table: str, bucket: str, media_host: str, s3_artifacts: bool, smoke: bool
):
    from tests.support.deployment import deployment_env

    env = {
        **deployment_env(
            nocodb_server,
            s3_server,
            table={"id": table},
            bucket=bucket,
            media_host=media_host,
            artifacts_dir=work / "artifacts",
        ),
        "TALKING_HEAD_SENSOR_INTERVAL_S": "1" if smoke else "5",
        "TALKING_HEAD_STAGE_SENSOR_INTERVAL_S": "1" if smoke else "2",
        "TALKING_HEAD_AVATAR__BACKEND": "lite",
    }
    if s3_artifacts:
        env["TALKING_HEAD_ARTIFACTS__BACKEND"] = "s3"
    return env


def _events(instance: dg.DagsterInstance, run_id: str) -> list:
    return [e for e in instance.all_logs(run_id) if e.dagster_event]


def sensor_ticks(instance: dg.DagsterInstance, name: str) -> list:
    """The ticks of the sensor ``name`` (in whichever location), with the runs each requested."""
    from dagster._core.scheduler.instigation import InstigatorType

    ticks = []
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.name == name:
            ticks += instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1000)
    return ticks


def record_timeline(instance: dg.DagsterInstance, key: str, memory: TreeMemory) -> dict:
    """Where one record's wall time went, from the run storage and the event log; its processes' peak memory."""
    from talking_head_dagster.sensors.dead_runs import worker_pid

    runs = sorted(
        instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": key})), key=lambda r: r.create_timestamp
    )
    run_ids = {r.dagster_run.run_id for r in runs}
    ticks = [tick for tick in sensor_ticks(instance, "nocodb_rows") if set(tick.run_ids) & run_ids]
    first_created = runs[0].create_timestamp.timestamp()
    tick_at = min((t.timestamp for t in ticks), default=first_created)
    stage_seconds, steps, per_run, speech_s = {}, 0.0, [], None
    done_at = None
    for record in runs:
        run_id = record.dagster_run.run_id
        events = _events(instance, run_id)
        by_type: dict[str, list] = {}
        for event in events:
            by_type.setdefault(event.dagster_event.event_type_value, []).append(event)
        for event in by_type.get("ASSET_MATERIALIZATION", []):
            materialization = event.dagster_event.event_specific_data.materialization
            seconds = materialization.metadata.get("stage_seconds")
            if seconds is not None:
                stage_seconds[materialization.asset_key.to_user_string()] = float(seconds.value)
            if materialization.asset_key.to_user_string() == "nocodb_sync":
                done_at = event.timestamp
            if materialization.asset_key.to_user_string() == "tts_audio":
                speech_s = float(str(materialization.metadata["duration"].value).split()[0])
        step_starts = [e.timestamp for e in by_type.get("STEP_START", [])]
        step_ends = [e.timestamp for e in by_type.get("STEP_SUCCESS", [])]
        steps += sum(end - start for start, end in zip(sorted(step_starts), sorted(step_ends), strict=False))
        created = record.create_timestamp.timestamp()
        start = record.start_time or created
        pid = worker_pid(instance, run_id)
        per_run.append(
            {
                "job": record.dagster_run.job_name,
                "worker_peak_mib": memory.peak_mib(pid) if pid else None,
                "children_peak_mib": memory.children_peak_mib(pid) if pid else None,
                "queued_to_started_s": round(start - created, 2),
                "started_to_first_step_s": round(min(step_starts, default=start) - start, 2),
                "steps_s": round(sum(e - s for s, e in zip(sorted(step_starts), sorted(step_ends), strict=False)), 2),
                "last_step_to_end_s": round((record.end_time or start) - max(step_ends, default=start), 2),
                "created": created,
                "ended": record.end_time,
            }
        )
    handoffs = [round(b["created"] - a["ended"], 2) for a, b in itertools.pairwise(per_run)]
    wall = (done_at or time.time()) - tick_at
    stages_total = sum(stage_seconds.values())
    return {
        "key": key,
        "wall_s": round(wall, 2),
        "stage_seconds": stage_seconds,
        "stages_total_s": round(stages_total, 2),
        "overhead_s": round(wall - stages_total, 2),
        "overhead_pct": round(100 * (wall - stages_total) / wall, 1),
        "speech_s": speech_s,
        "wall_over_speech": round(wall / speech_s, 3) if speech_s else None,
        "stage_real_time_factors": {k: round(v / speech_s, 3) for k, v in stage_seconds.items()} if speech_s else None,
        "tick_to_first_run_created_s": round(first_created - tick_at, 2),
        "runs": [{k: v for k, v in run.items() if k not in ("created", "ended")} for run in per_run],
        "handoffs_s": handoffs,
    }


def wait_done(nocodb, server, table: str, row_ids: list[int], timeout: float = 3600) -> float:
    """Seconds until every row shows its URL (what users see)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if all(nocodb.get_row(server, table, row_id).get("chengpinurl") for row_id in row_ids):
            return time.monotonic() - started
        time.sleep(2)
    raise TimeoutError(f"rows {row_ids} not done after {timeout} s")


def wait_runs_over(instance: dg.DagsterInstance, keys: list[str], timeout: float = 300) -> None:
    """Until the rows' runs have ended (the URL is in the row a moment before the run records its end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": keys}))
        if all(r.dagster_run.is_finished for r in runs):
            return
        time.sleep(1)


def rows_at_once(nocodb, server, table: str, instance: dg.DagsterInstance, rows: list[dict], memory) -> dict:
    """Insert ``rows`` together, wait until every one is done; their throughput and mean figures."""
    started_at = time.monotonic()
    row_ids = nocodb.insert_rows(server, table, rows)
    elapsed = wait_done(nocodb, server, table, row_ids)
    wait_runs_over(instance, [f"{table}-{r}" for r in row_ids])
    timelines = [record_timeline(instance, f"{table}-{r}", memory) for r in row_ids]
    count = len(rows)
    return {
        "rows": count,
        "elapsed_s": round(elapsed, 1),
        "rows_per_minute": round(60 * count / elapsed, 2),
        "stage_seconds_mean": {
            s: round(sum(t["stage_seconds"].get(s, 0) for t in timelines) / count, 2) for s in STAGES
        },
        "overhead_pct_mean": round(sum(t["overhead_pct"] for t in timelines) / count, 1),
        "per_row_wall_s": [t["wall_s"] for t in timelines],
        "loop_wait_s": round(time.monotonic() - started_at - elapsed, 1),
        "timelines": timelines,
    }


def standin_avatar_server(work: Path) -> str:
    """An avatar server in this process on the tests' stand-in FlashHead checkout, loaded; its URL."""
    from flashhead import serve_loaded

    from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
    from talking_head_dagster.media.binary import ffmpeg_binary
    from talking_head_dagster.resources.avatar import default_portrait
    from tests.avatar.flashhead.conftest import StandInMachine, standin_deployment

    renderer = FlashHeadRenderer(standin_deployment(work / "flashhead-standin"), StandInMachine())
    return serve_loaded(renderer, default_portrait(), ffmpeg_binary()).url


def run_mode(mode: str, args: argparse.Namespace) -> dict:
    from talking_head_dagster.demo import make_background, serve_directory
    from talking_head_dagster.media.binary import ffmpeg_binary
    from tests.services import nocodb, seaweedfs
    from tests.support.deployment import fresh_bucket
    from tests.support.processes import BIN, REPO, prepare_home, started
    from tests.support.production import postgres_database, served_deployment, two_location_deployment

    rows, script = args.rows, SCRIPT_SMOKE if args.smoke else SCRIPT_30S
    work = Path(tempfile.mkdtemp(prefix=f"{mode}-", dir=args.out)).resolve()
    nocodb_server, s3_server = nocodb.ensure_running(), seaweedfs.ensure_running()
    make_background(work / "media" / "background.mp4", ffmpeg_binary())
    report: dict = {"mode": mode, "load_before": os.getloadavg()}
    with ExitStack() as stack:
        base_url = stack.enter_context(serve_directory(work / "media"))
        media_host = base_url.split("://")[1]
        table = nocodb.create_table(nocodb_server, f"bench_{mode}_{uuid.uuid4().hex[:6]}")
        stack.callback(nocodb.delete_table, nocodb_server, table)  # after the daemon has stopped
        env_settings = settings_env(
            work, nocodb_server, s3_server, table, fresh_bucket(s3_server), media_host, mode != "embedded", args.smoke
        )
        if mode == "embedded":
            home = work / "dagster_home"
            home.mkdir()
            shutil.copyfile(args.instance or REPO / "dagster.yaml", home / "dagster.yaml")
            env = {**os.environ, **env_settings, "DAGSTER_HOME": str(home), "DAGSTER_GRPC_TIMEOUT_SECONDS": "300"}
            command = [str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")]
            prepare_home(home)
            stack.enter_context(started(command, env, work / "daemon.log"))
            instance = stack.enter_context(dg.DagsterInstance.from_config(str(home)))
        else:
            database = stack.enter_context(postgres_database())
            if mode == "served":
                env_settings |= {
                    "TALKING_HEAD_AVATAR__BACKEND": "flashhead",
                    "TALKING_HEAD_AVATAR__FLASHHEAD__SERVER_URL": standin_avatar_server(work),
                }
                deployment = stack.enter_context(served_deployment(work, database, env_settings))
            else:
                deployment = stack.enter_context(two_location_deployment(work, database, env_settings))
            stack.enter_context(deployment.daemon())
            instance = stack.enter_context(deployment.instance())
        row = {"url": f"{base_url}/background.mp4", "content": script}

        memory = stack.enter_context(TreeMemory(root=os.getpid()))
        # Phase 0: the daemon's first row (its code server is up: the sensor ticked).
        first = rows_at_once(nocodb, nocodb_server, table, instance, [row], memory)
        report["first_row"] = first.pop("timelines")[0]

        # Phase 1: one row alone, as a daemon that has been up a while meets it.
        alone = rows_at_once(nocodb, nocodb_server, table, instance, [row], memory)
        report["one_row"] = alone.pop("timelines")[0]
        report["one_row_as_batch"] = alone
        print(json.dumps(report["one_row"], indent=2), flush=True)

        # Phase 2: several rows at once (each a new version: a word differs).
        if rows:
            batch = [{**row, "content": f"{script} Take {n}."} for n in range(1, rows + 1)]
            report["batch"] = rows_at_once(nocodb, nocodb_server, table, instance, batch, memory)
            timelines = report["batch"].pop("timelines")
            report["batch"]["worker_peak_mib_max"] = max(
                (run["worker_peak_mib"] or 0 for t in timelines for run in t["runs"]), default=None
            )
        report["load_after"] = os.getloadavg()
        zygotes = {pid for pid, s in memory.seen.items() if ZYGOTE_MODULE in s.command}
        warm = [s.peak_kib for pid, s in memory.seen.items() if pid in zygotes and s.ppid not in zygotes]
        report["warm_process_peak_mib"] = round(max(warm) / 1024, 1) if warm else None
    write_report(args, report, f"{mode}-{args.label}.json" if args.label else f"{mode}.json")
    return report


def main() -> int:
    parser = arguments(__doc__, "deployment_overhead")
    parser.add_argument(
        "--mode", choices=["embedded", "production", "served", "all"], default=None, help="default: all three"
    )
    parser.add_argument("--rows", type=int, default=5)
    parser.add_argument("--instance", type=Path, help="the embedded shape's dagster.yaml (default: the repo's)")
    parser.add_argument("--label", default="", help="added to the report's name")
    args = parser.parse_args()
    if args.smoke:
        args.rows = 0
    args.out.mkdir(parents=True, exist_ok=True)
    for mode in ("embedded", "production", "served") if args.mode in ("all", None) else (args.mode,):
        run_mode(mode, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
