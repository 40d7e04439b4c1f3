"""A row's life as its table shows it, against the real NocoDB and S3: setup, queued, one status per
stage, done; re-publishing uploads nothing twice; an edited script with 'retry' renders the new
version; a row deleted while it renders ends its run cleanly."""

import json
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest

from talking_head_dagster.cli import main as cli
from talking_head_dagster.manifests import PublicationManifest
from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.render import failure_message
from tests.services import nocodb
from tests.support.deployment import deploy, deployment_settings, fresh_bucket, launch, object_keys, tick

pytestmark = pytest.mark.integration

STAGES = [
    ("source_video", "downloading"),
    ("tts_audio", "speaking"),
    ("avatar_video", "animating"),
    ("composite", "compositing"),
    ("public_url", "uploading"),
    ("nocodb_sync", "done"),
]


def _videos(s3_server, bucket: str, key: str) -> list[str]:
    return [k for k in object_keys(s3_server, bucket, f"videos/{key}/") if k.endswith(".mp4")]


def _picked_up(defs, instance, nocodb_server, table: str, media_server: str, script: str):
    """A new row of the test clip and ``script``, its record key, and the tick that picked it up."""
    [row_id] = nocodb.insert_rows(nocodb_server, table, [{"url": f"{media_server}/clip.mp4", "content": script}])
    return row_id, str(RecordKey(table, str(row_id))), tick(defs, instance)


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nocodb_server, s3_server, media_host, capsys):
    """A table without status columns, made ready by `talking-head setup`, and a deployment on it."""
    table = nocodb.create_table(nocodb_server, f"life_{uuid.uuid4().hex[:8]}")
    bucket = fresh_bucket(s3_server)
    settings = deployment_settings(
        tmp_path, nocodb_server, s3_server, [table], bucket, status_columns=True, allowed_hosts=(media_host,)
    )
    monkeypatch.setenv("TALKING_HEAD_NOCODB__URL", nocodb_server.base_url)
    monkeypatch.setenv("TALKING_HEAD_NOCODB__API_TOKEN", nocodb_server.api_token)
    monkeypatch.setenv(
        "TALKING_HEAD_NOCODB__TABLES", json.dumps([{"id": table, "status_column": "status", "error_column": "error"}])
    )
    assert cli(["setup"]) == 0
    assert "created columns: status, error" in capsys.readouterr().out
    assert cli(["setup"]) == 0  # a second time finds them
    assert "present: url, content, chengpinurl, status, error" in capsys.readouterr().out
    return table, bucket, deploy(monkeypatch, settings, nocodb_server, s3_server)


def test_a_row_shows_each_stage_then_done_and_renders_again_on_retry(
    deployment, instance, nocodb_server, s3_server, media_server
) -> None:
    table, bucket, defs = deployment
    row_id, key, first = _picked_up(defs, instance, nocodb_server, table, media_server, "A row with a life of its own.")
    [request] = first.run_requests
    assert nocodb.get_row(nocodb_server, table, row_id)["status"] == "queued"

    # Stage by stage, the row shows where it is (each stage writes its status as it starts).
    job = defs.resolve_job_def("render_record")
    for stage, status in STAGES:
        result = job.execute_in_process(
            partition_key=key, instance=instance, asset_selection=[dg.AssetKey(stage)], tags=request.tags
        )
        assert result.success, failure_message(result)
        assert nocodb.get_row(nocodb_server, table, row_id)["status"] == status, stage
    row = nocodb.get_row(nocodb_server, table, row_id)
    assert row["chengpinurl"] and not row["error"]
    [published] = _videos(s3_server, bucket, key)

    # Re-publishing (a re-run after a crash between upload and NocoDB write) uploads nothing.
    again = job.execute_in_process(
        partition_key=key,
        instance=instance,
        asset_selection=[dg.AssetKey("public_url"), dg.AssetKey("nocodb_sync")],
    )
    assert again.success
    publication = PublicationManifest.model_validate_json(
        Path(defs.resources["artifacts"].local_dir, key, "public_url", "manifest.json").read_text()
    )
    assert publication.uploaded is False and _videos(s3_server, bucket, key) == [published]

    # The user edits the script of the done row and asks for a retry: the new version renders.
    nocodb.update_rows(nocodb_server, table, [{"Id": row_id, "content": "The edited script.", "status": "retry"}])
    second = tick(defs, instance, cursor=first.cursor)
    [retry] = second.run_requests
    assert retry.run_key != request.run_key and retry.partition_key == key
    assert nocodb.get_row(nocodb_server, table, row_id)["status"] == "queued"
    assert launch(defs, instance, retry).success
    row = nocodb.get_row(nocodb_server, table, row_id)
    assert row["status"] == "done" and row["chengpinurl"] != publication.url
    # One object per result: the first version's and the edited one's.
    assert len(_videos(s3_server, bucket, key)) == 2 and published in _videos(s3_server, bucket, key)
    assert not tick(defs, instance, cursor=second.cursor).run_requests


def test_a_row_deleted_while_it_renders_ends_its_run_cleanly(
    deployment, instance, nocodb_server, s3_server, media_server
) -> None:
    table, bucket, defs = deployment
    [row_id] = nocodb.insert_rows(
        nocodb_server,
        table,
        [{"url": f"{media_server}/clip.mp4", "content": "This row is deleted while its avatar is animated."}],
    )
    [request] = tick(defs, instance).run_requests

    # The user deletes the row while the avatar is being animated.
    deleted = threading.Event()

    def delete_when_animating() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if nocodb.get_row(nocodb_server, table, row_id).get("status") == "animating":
                nocodb.delete_rows(nocodb_server, table, [row_id])
                deleted.set()
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=delete_when_animating)
    watcher.start()
    result = launch(defs, instance, request)
    watcher.join()
    assert deleted.is_set()

    # The run stops at the next stage with a clear message, uploads nothing and retries nothing.
    assert not result.success
    assert "The row was deleted from the table while it was being rendered." in failure_message(result)
    assert [e.step_key for e in result.all_events if e.is_step_failure] == ["composite"]
    done = {e.step_key for e in result.all_events if e.is_step_success}
    assert done == {"source_video", "tts_audio", "avatar_video"}  # public_url and nocodb_sync never ran
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    assert _videos(s3_server, bucket, request.partition_key) == []


def test_a_row_edited_while_it_renders_gets_no_stale_url_and_its_new_version_renders(
    deployment, instance, nocodb_server, s3_server, media_server
) -> None:
    table, bucket, defs = deployment
    row_id, key, first = _picked_up(defs, instance, nocodb_server, table, media_server, "The script as first written.")
    [request] = first.run_requests

    # The user edits the script once the avatar is animated: the old version finishes and is published,
    # but its URL is not written into the row, which is left for the edited version.
    job = defs.resolve_job_def("render_record")
    for stage, _ in STAGES:
        if stage == "composite":
            nocodb.update_rows(nocodb_server, table, [{"Id": row_id, "content": "The script as edited."}])
        result = job.execute_in_process(
            partition_key=key, instance=instance, asset_selection=[dg.AssetKey(stage)], tags=request.tags
        )
        assert result.success, failure_message(result)
    row = nocodb.get_row(nocodb_server, table, row_id)
    assert (row["chengpinurl"], row["status"]) == (None, "")
    assert row["error"] == (
        "The URL or script changed while the previous version was rendering; the new version is next."
    )
    [old_video] = _videos(s3_server, bucket, key)

    # The next tick renders the edited version; its URL, not the old one's, ends in the row.
    [edited] = tick(defs, instance, cursor=first.cursor).run_requests
    assert edited.tags["talking_head/record_version"] != request.tags["talking_head/record_version"]
    assert launch(defs, instance, edited).success
    row = nocodb.get_row(nocodb_server, table, row_id)
    assert row["status"] == "done" and not row["error"]
    [new_video] = [video for video in _videos(s3_server, bucket, key) if video != old_video]
    assert urlsplit(row["chengpinurl"]).path.endswith(f"/{new_video}")
