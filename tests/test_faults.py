"""Faults injected into a running deployment, against the real NocoDB and S3: after each, every row
reaches done or failed, none is rendered or uploaded twice, none is lost.

NocoDB and S3 are reached through a ``FaultProxy`` that makes them look stopped at a precise
moment (see tests/support/fault_proxy.py): the session's servers are shared with other tests.
The killed run is a real process of its own, killed with SIGKILL in the middle of the composite.
"""

import dataclasses
import hashlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest
import requests

from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.render import failure_message
from talking_head_dagster.sensors.cursor import SweepCursor
from tests.services import nocodb
from tests.support.deployment import (
    deploy,
    deployment_settings,
    fresh_bucket,
    launch,
    object_keys,
    run_process_env,
    tick,
)
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parent.parent
STATUS_COLUMNS = [{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}]


@pytest.fixture
def nocodb_proxy(nocodb_server):
    proxy = FaultProxy(nocodb_server.base_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def s3_proxy(s3_server):
    proxy = FaultProxy(s3_server.endpoint_url).start()
    yield proxy
    proxy.stop()


def _videos(s3_server, bucket: str, key: str) -> list[str]:
    return [k for k in object_keys(s3_server, bucket, f"videos/{key}/") if k.endswith(".mp4")]


def _events(result, kind: str, step: str) -> int:
    return sum(1 for e in result.all_events if e.event_type_value == kind and e.step_key == step)


def _runs_per_row(instance: dg.DagsterInstance, keys: list[str]) -> dict[str, int]:
    runs = instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/partition": keys}))
    counts = dict.fromkeys(keys, 0)
    for run in runs:
        counts[run.dagster_run.tags["dagster/partition"]] += 1
    return counts


def test_nocodb_stopped_during_a_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, s3_server, nocodb_proxy
) -> None:
    """NocoDB stops while the sensor pages through a table: the rows read are run, the cursor stays,
    and once NocoDB is back the next tick finds the rest; nothing is run twice."""
    # A Title column, as the studio's tables have: the sensor's requests are then exactly its pages.
    columns = [{"title": "Title", "uidt": "SingleLineText"}, *STATUS_COLUMNS]
    table = nocodb.create_table(nocodb_server, f"tickfault_{uuid.uuid4().hex[:8]}", extra_columns=columns)
    # Rows that fail at once (their URL is refused): the test is about the sensor, not rendering.
    ids = nocodb.insert_rows(
        nocodb_server, table, [{"url": "javascript:void(0)", "content": f"Row {i}."} for i in range(9)]
    )
    keys = [str(RecordKey(table, str(i))) for i in ids]
    settings = deployment_settings(
        tmp_path,
        dataclasses.replace(nocodb_server, base_url=nocodb_proxy.url),
        s3_server,
        [table],
        "unused",
        status_columns=True,
    )
    settings.nocodb.page_size = 3
    defs = deploy(monkeypatch, settings, nocodb_server, s3_server)

    # NocoDB stops when the second page is asked for.
    nocodb_proxy.stop_when(lambda number, chunk, sent: number == 2)
    first = tick(defs, instance)
    assert nocodb_proxy.stops == 1
    assert sorted(r.partition_key for r in first.run_requests) == keys[:3]
    assert table not in SweepCursor.parse(first.cursor).after_id  # the cursor did not move on

    # NocoDB is back; the runs of the first tick end, the next ticks find the rest, once.
    nocodb_proxy.start()
    results = [launch(defs, instance, r) for r in first.run_requests]
    second = tick(defs, instance, cursor=first.cursor)
    assert sorted(r.partition_key for r in second.run_requests) == keys[3:]
    results += [launch(defs, instance, r) for r in second.run_requests]
    assert not tick(defs, instance, cursor=second.cursor).run_requests
    assert not any(r.success for r in results)
    for row_id in ids:
        row = nocodb.get_row(nocodb_server, table, row_id)
        assert row["status"] == "failed" and "must start with http" in row["error"], row
    assert set(_runs_per_row(instance, keys).values()) == {1}


@dataclasses.dataclass
class OneRow:
    table: str
    row_id: int
    bucket: str
    defs: dg.Definitions
    request: dg.RunRequest


@pytest.fixture
def one_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, s3_server, media_server, media_host
):
    """A good row, picked up by a tick of a deployment that reaches NocoDB and S3 as the test says."""

    def make(script: str, nocodb_url: str | None = None, s3_url: str | None = None) -> OneRow:
        table = nocodb.create_table(nocodb_server, f"fault_{uuid.uuid4().hex[:8]}", extra_columns=STATUS_COLUMNS)
        [row_id] = nocodb.insert_rows(nocodb_server, table, [{"url": f"{media_server}/clip.mp4", "content": script}])
        bucket = fresh_bucket(s3_server)
        settings = deployment_settings(
            tmp_path,
            dataclasses.replace(nocodb_server, base_url=nocodb_url or nocodb_server.base_url),
            dataclasses.replace(s3_server, endpoint_url=s3_url or s3_server.endpoint_url),
            [table],
            bucket,
            status_columns=True,
            allowed_hosts=(media_host,),
        )
        defs = deploy(monkeypatch, settings, nocodb_server, s3_server)
        [request] = tick(defs, instance).run_requests
        return OneRow(table, row_id, bucket, defs, request)

    return make


def test_nocodb_stopped_during_nocodb_sync(one_row, instance, nocodb_server, s3_server, nocodb_proxy) -> None:
    """The video is uploaded, then NocoDB stops just as the row is to be updated; it comes back 3 s
    later and the retried nocodb_sync writes the row: done, one upload, one object."""
    row = one_row("NocoDB goes away at the very end.", nocodb_url=nocodb_proxy.url)

    # Armed by public_url's 'uploading' status write: the next connection (nocodb_sync's) finds NocoDB stopped.
    armed: dict[str, int] = {}

    def after_uploading(number: int, chunk: bytes, sent: int) -> bool:
        if b'"uploading"' in chunk:
            armed["at"] = number
        return "at" in armed and number > armed["at"]

    nocodb_proxy.stop_when(after_uploading, restart_after_s=3.0)
    result = launch(row.defs, instance, row.request)

    assert nocodb_proxy.stops == 1
    assert result.success, failure_message(result)
    assert _events(result, "STEP_UP_FOR_RETRY", "nocodb_sync") >= 1
    assert _events(result, "STEP_SUCCESS", "public_url") == 1
    cells = nocodb.get_row(nocodb_server, row.table, row.row_id)
    assert cells["status"] == "done" and cells["chengpinurl"]
    assert len(_videos(s3_server, row.bucket, row.request.partition_key)) == 1


def test_s3_stopped_during_upload_and_restarted(
    tmp_path: Path, one_row, instance, nocodb_server, s3_server, s3_proxy
) -> None:
    """The S3 server stops with the MP4 half uploaded and restarts 3 s later: the upload is retried,
    the bucket holds exactly one complete object, the row is done."""
    row = one_row("The bucket goes away mid upload.", s3_url=s3_proxy.url)
    key = row.request.partition_key

    s3_proxy.stop_when(lambda number, chunk, sent: sent > 64 * 1024, restart_after_s=3.0)
    result = launch(row.defs, instance, row.request)

    assert s3_proxy.stops == 1
    assert result.success, failure_message(result)
    cells = nocodb.get_row(nocodb_server, row.table, row.row_id)
    assert cells["status"] == "done"
    assert len(_videos(s3_server, row.bucket, key)) == 1
    composite = next((tmp_path / "artifacts" / key / "composite").glob("*.mp4"))
    published = requests.get(cells["chengpinurl"], timeout=30).content
    assert hashlib.md5(published).hexdigest() == hashlib.md5(composite.read_bytes()).hexdigest()


def test_run_killed_during_composite_and_reexecuted_from_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nocodb_server, s3_server, media_server, media_host
) -> None:
    """SIGKILL to the run's process while FFmpeg composites; Dagster marks the run failed (run
    monitoring does it in production); re-executed from failure, the run redoes the composite and
    what follows, not the stages before it; the row ends done with one object."""
    table = nocodb.create_table(nocodb_server, f"killed_{uuid.uuid4().hex[:8]}", extra_columns=STATUS_COLUMNS)
    script = "This run is killed in the middle of its composite. Then it is run again from where it failed."
    [row_id] = nocodb.insert_rows(nocodb_server, table, [{"url": f"{media_server}/clip.mp4", "content": script}])
    bucket = fresh_bucket(s3_server)
    env = {
        **run_process_env(tmp_path, nocodb_server, s3_server, table=table, bucket=bucket, media_host=media_host),
        "TALKING_HEAD_RETRY__BASE_DELAY_S": "0.5",
        "TALKING_HEAD_RETRY__MAX_TOTAL_S": "20",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from tests.support.job_process import HOLD_COMPOSITE_ENV, render_record_job, wait_for_file, wait_for_step_start

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        from talking_head_dagster.definitions import build_definitions

        [request] = tick(build_definitions(), instance).run_requests
        key = request.partition_key

        # 1. The run, in a process of its own, killed once the composite has started.
        encoding = tmp_path / "composite-encoding"
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.support.job_process", key, request.run_key, request.tags[_VERSION]],
            cwd=REPO,
            env={**os.environ, **env, HOLD_COMPOSITE_ENV: str(encoding)},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "run.log").open("w"),
        )
        run_id = wait_for_step_start(instance, request.run_key, "composite", child, tmp_path / "run.log")
        wait_for_file(encoding, child, tmp_path / "run.log")  # the composite's FFmpeg is running
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert not _step_succeeded(instance, run_id, "composite")
        assert nocodb.get_row(nocodb_server, table, row_id)["status"] == "compositing"
        # What run monitoring does in production: the dead run is marked failed.
        instance.report_run_failed(instance.get_run_by_id(run_id))
        upstream = {
            stage: (tmp_path / "artifacts" / key / stage / "manifest.json").stat().st_mtime_ns
            for stage in ("source_video", "tts_audio", "avatar_video")
        }

        # 2. Re-executed from failure, in this process, with the parent's partition (as the UI does).
        parent_tags = instance.get_run_by_id(run_id).tags
        result = dg.execute_job(
            dg.reconstructable(render_record_job),
            instance=instance,
            reexecution_options=dg.ReexecutionOptions.from_failure(run_id, instance),
            tags={tag: parent_tags[tag] for tag in ("dagster/partition", _VERSION)},
        )
        assert result.success
        started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
        assert started == {"composite", "public_url", "nocodb_sync"}
        for stage, mtime in upstream.items():
            assert (tmp_path / "artifacts" / key / stage / "manifest.json").stat().st_mtime_ns == mtime, stage

    row = nocodb.get_row(nocodb_server, table, row_id)
    assert row["status"] == "done" and row["chengpinurl"] and not row["error"]
    assert len(_videos(s3_server, bucket, key)) == 1


_VERSION = "talking_head/record_version"


def _step_succeeded(instance, run_id: str, step: str) -> bool:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS).records
    return any(r.event_log_entry.step_key == step for r in records)
