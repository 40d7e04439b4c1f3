"""A NocoDB row becomes a published MP4: real NocoDB, real sensor, real SeaweedFS, real FFmpeg and Piper."""

import uuid
from pathlib import Path

import pytest
import requests

from talking_head_dagster.media.probe import probe
from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.records import record_version
from talking_head_dagster.render import failure_message
from talking_head_dagster.speech.timing import SpeechManifest
from tests.services import nocodb
from tests.support.deployment import deploy, deployment_settings, fresh_bucket, launch, object_keys, tick

pytestmark = pytest.mark.integration

GOOD = [
    ("clip.mp4", "Hello from the first row. It has two short sentences."),
    ("silent.mp4", "A second good row, whose background has no sound."),
]
# (url path or full URL, content, the message the row fails with)
BAD = [
    ("ftp://127.0.0.1/clip.mp4", "A link that is not http.", "has no http(s) link in it"),
    ("missing.mp4", "A link that answers not found.", "answers 'not found'"),
    ("page.html", "A page with no video on it.", "No video was found"),
    ("big.mp4", "A video over the size limit.", "larger than the limit"),
    ("notvideo.mp4", "A file that is not a video.", "not a video"),
    ("clip.mp4", "今天我们来聊一聊人工智能。", "No voice for the script's language ('zh') is installed"),
    ("clip.mp4", "   ...   ", "no speakable words"),
]


def test_rows_become_published_videos_and_bad_rows_fail_alone(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    instance,
    nocodb_server,
    s3_server,
    media_server,
    media_host,
    ffmpeg_exe,
) -> None:
    table = nocodb.create_table(
        nocodb_server,
        f"e2e_{uuid.uuid4().hex[:8]}",
        extra_columns=[{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}],
    )
    bucket = fresh_bucket(s3_server)
    settings = deployment_settings(
        tmp_path, nocodb_server, s3_server, [table], bucket, status_columns=True, allowed_hosts=(media_host,)
    )
    defs = deploy(monkeypatch, settings, nocodb_server, s3_server)

    def full(url: str) -> str:
        return url if "://" in url else f"{media_server}/{url}"

    rows = [{"url": full(u), "content": c} for u, c in GOOD] + [{"url": full(u), "content": c} for u, c, _ in BAD]
    # Rows the sensor must leave alone: no URL, no script, already done.
    ignored = [
        {"url": "", "content": "no url"},
        {"url": full("clip.mp4"), "content": ""},
        {"url": full("clip.mp4"), "content": "done", "chengpinurl": "https://example.com/done.mp4"},
    ]
    ids = nocodb.insert_rows(nocodb_server, table, rows + ignored)
    keys = [str(RecordKey(table, str(i))) for i in ids]
    good_keys, bad_keys, ignored_keys = keys[: len(GOOD)], keys[len(GOOD) : len(rows)], keys[len(rows) :]

    # One tick finds exactly the candidate rows and requests one run each.
    first = tick(defs, instance)
    assert sorted(r.partition_key for r in first.run_requests) == sorted(good_keys + bad_keys)
    assert not set(ignored_keys) & set(instance.get_dynamic_partitions("records"))

    results = {r.partition_key: launch(defs, instance, r) for r in first.run_requests}

    # Good rows: the bucket holds the MP4 under its key, it plays, and the row links to it.
    for key, (_, content), row_id in zip(good_keys, GOOD, ids, strict=False):
        assert results[key].success, failure_message(results[key])
        row = nocodb.get_row(nocodb_server, table, row_id)
        assert row["status"] == "done" and not row["error"]
        version = record_version(rows[ids.index(row_id)]["url"], content)
        # Exactly one video per result, with its subtitles beside it.
        assert object_keys(s3_server, bucket, f"videos/{key}/") == [
            f"videos/{key}/{version}.mp4",
            f"videos/{key}/{version}.srt",
        ]
        response = requests.get(row["chengpinurl"], timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"] == "video/mp4"
        video = tmp_path / f"{key}.mp4"
        video.write_bytes(response.content)
        info = probe(video, ffmpeg_exe)
        speech = SpeechManifest.model_validate_json(
            (tmp_path / "artifacts" / key / "tts_audio" / "manifest.json").read_text()
        )
        assert info.video.codec == "h264" and (info.video.width, info.video.height) == (1080, 1920)
        assert info.audio is not None and info.audio.codec == "aac"
        assert info.duration_s == pytest.approx(speech.duration_s, abs=0.1)

    # Bad rows: each failed alone, with its message, nothing uploaded, the row untouched.
    for key, (_, _, message) in zip(bad_keys, BAD, strict=True):
        assert not results[key].success, key
        assert message in failure_message(results[key]), (key, failure_message(results[key]))
        assert object_keys(s3_server, bucket, f"videos/{key}/") == []
        row = nocodb.get_row(nocodb_server, table, int(RecordKey.parse(key).row))
        assert not row.get("chengpinurl")
        # The reason is in the row too, where users look.
        assert row["status"] == "failed" and message in row["error"], row

    # A second tick enqueues nothing new: done rows have a result, failed row versions already ran.
    second = tick(defs, instance, cursor=first.cursor)
    assert list(second.run_requests or []) == []
