"""A catalogue of hostile and broken inputs, in one batch with good rows, against the real NocoDB and S3.

One sensor tick picks up every row; each run is launched as the daemon would launch it. Every good
row ends ``done`` with a playable video; every bad row ends ``failed`` with its message in the row,
and nothing in the bucket; bad configuration skips its table with the reason; the sensor keeps
ticking; and no configured secret shows up in logs, run metadata, raised messages or rows.
"""

import logging
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import requests
from pydantic import SecretStr

from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.render import failure_message
from talking_head_dagster.resources.factory import NOCODB_TOKEN_ENV
from talking_head_dagster.settings import TableSettings
from tests.services import nocodb
from tests.support.deployment import deploy, deployment_settings, fresh_bucket, launch, object_keys, tick
from tests.support.hostile_server import page_with_video, redirect_to, serve_hostile

pytestmark = pytest.mark.integration

MAX_SCRIPT_CHARS = 300
STATUS_COLUMNS = [{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}]
FINE = "A short script that is fine."

# (source URL; "{media}" is the allowlisted server, "{other}" a loopback server nobody allowlisted,
# "{closed}" a loopback port nothing listens on), script, the message the row must show.
GOOD = [
    ("{media}/clip.mp4", "Hello; [0:v] drawtext=text='x':y=1, {\\fs200}it's fine.\x07\u202e Really, it is."),
    ("{media}/hops/2/silent.mp4", "Two redirects away, and still a good row."),
]
BAD = [
    ("ftp://127.0.0.1/clip.mp4", FINE, "must start with http:// or https://"),
    ("file:///etc/passwd", FINE, "must start with http:// or https://"),
    ("javascript:alert(1)", FINE, "must start with http:// or https://"),
    ("http:///clip.mp4", FINE, "must start with http:// or https://"),
    ("{media}/cl ip.mp4", FINE, "spaces or control characters"),
    ("{other}/clip.mp4", FINE, "resolves to this machine (loopback)"),
    ("http://127.0.0.1:{closed}/clip.mp4", FINE, "resolves to this machine (loopback)"),
    ("http://2130706433:{closed}/clip.mp4", FINE, "resolves to this machine (loopback)"),
    ("http://[::1]:{closed}/clip.mp4", FINE, "loopback"),
    ("http://0.0.0.0:{closed}/clip.mp4", FINE, "unspecified address"),
    ("http://10.0.0.1/clip.mp4", FINE, "resolves to a private network"),
    ("http://169.254.169.254/latest/meta-data/", FINE, "resolves to a cloud metadata service"),
    ("redirect:{other}/clip.mp4", FINE, "resolves to this machine (loopback)"),
    ("redirect:http://169.254.169.254/latest/meta-data/", FINE, "cloud metadata service"),
    ("{media}/hops/9/clip.mp4", FINE, "redirects more than 5 times"),
    ("page:{other}/clip.mp4", FINE, "The download was stopped"),
    ("http://no-such-host.invalid/clip.mp4", FINE, "does not exist"),
    ("{media}/missing.mp4", FINE, "answers 'not found'"),
    ("{media}/page.html", FINE, "No video was found"),
    ("{media}/big.mp4", FINE, "larger than the limit of 2 MiB"),
    ("{media}/notvideo.mp4", FINE, "not a video ffmpeg can read"),
    ("{media}/short.mp4", FINE, "too short"),
    ("{media}/clip.mp4", "今天我们来聊一聊人工智能。", "No voice for the script's language ('zh') is installed"),
    ("{media}/clip.mp4", "   ...   ", "no speakable words"),
    ("{media}/clip.mp4", "\x00\x01\x07\x1b\x7f\u202e", "The script is empty"),
    ("{media}/clip.mp4", "Far too long. " * 40, f"the limit is {MAX_SCRIPT_CHARS}"),
]
# A row of its own for the test that fixes a failed row and sets it to 'retry' (no other test reads it).
FIXABLE = ("{media}/clip.mp4", "Far too long. " * 40, f"the limit is {MAX_SCRIPT_CHARS}")
# A table whose configuration names a voice that is not installed: its rows fail, the others don't.
BAD_VOICE = "xx_XX-nobody-medium"


@dataclass
class Batch:
    table: str
    voice_table: str
    missing_column_table: str
    bucket: str
    artifacts: Path
    defs: dg.Definitions
    instance: dg.DagsterInstance
    good: dict[str, str]  # partition key -> source URL
    bad: dict[str, str]  # partition key -> expected message
    fixable: str  # the partition key of the FIXABLE row
    results: dict[str, dg.ExecuteInProcessResult]
    first: dg.SensorResult
    second: dg.SensorResult
    logs: list[str]
    secrets: list[str]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def batch(tmp_path_factory, nocodb_server, s3_server, media_dir, media_server, media_host) -> Iterator[Batch]:
    """Run the whole catalogue once; the tests below look at what it left behind.

    Steps: 1. tables, rows and a deployment that allowlists only the media server; 2. one tick,
    one launch per request, with every log line collected; 3. a second tick, as the daemon would
    do next.
    """
    tmp_path = tmp_path_factory.mktemp("bad_inputs")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with (
        serve_hostile(media_dir) as other,
        pytest.MonkeyPatch.context() as monkeypatch,
        dg.instance_for_test() as instance,
    ):
        # 1. Tables, rows, deployment.
        table = nocodb.create_table(nocodb_server, f"bad_{uuid.uuid4().hex[:8]}", extra_columns=STATUS_COLUMNS)
        voice_table = nocodb.create_table(nocodb_server, f"voice_{uuid.uuid4().hex[:8]}", extra_columns=STATUS_COLUMNS)
        missing_column_table = nocodb.create_table(nocodb_server, f"nocol_{uuid.uuid4().hex[:8]}")
        bucket = fresh_bucket(s3_server)
        settings = deployment_settings(
            tmp_path, nocodb_server, s3_server, [table], bucket, status_columns=True, allowed_hosts=(media_host,)
        )
        settings.speech.max_script_chars = MAX_SCRIPT_CHARS
        settings.nocodb.tables += [
            TableSettings(id=voice_table, status_column="status", error_column="error", voice=BAD_VOICE),
            TableSettings(id=missing_column_table, status_column="status", error_column="error"),
            TableSettings(id="nosuchtable0"),
        ]
        defs = deploy(monkeypatch, settings, nocodb_server, s3_server)

        def url(template: str) -> str:
            template = template.format(media=media_server, other=other, closed=closed)
            if template.startswith("redirect:"):
                return redirect_to(media_server, template.removeprefix("redirect:"))
            if template.startswith("page:"):
                return page_with_video(media_server, template.removeprefix("page:"))
            return template

        rows = [{"url": url(u), "content": c} for u, c in GOOD] + [{"url": url(u), "content": c} for u, c, _ in BAD]
        rows.append({"url": url(FIXABLE[0]), "content": FIXABLE[1]})
        ids = nocodb.insert_rows(nocodb_server, table, rows)
        [voice_row] = nocodb.insert_rows(
            nocodb_server, voice_table, [{"url": url("{media}/clip.mp4"), "content": FINE}]
        )
        nocodb.insert_rows(nocodb_server, missing_column_table, [{"url": url("{media}/clip.mp4"), "content": FINE}])
        keys = [str(RecordKey(table, str(i))) for i in ids]
        good = {k: r["url"] for k, r in zip(keys[: len(GOOD)], rows[: len(GOOD)], strict=True)}
        bad = {k: message for k, (_, _, message) in zip(keys[len(GOOD) : -1], BAD, strict=True)}
        bad[str(RecordKey(voice_table, str(voice_row)))] = f"Voice '{BAD_VOICE}' is not installed"

        # 2. One tick, every run, every log line.
        collect = _Collect()
        loggers = [logging.getLogger(), logging.getLogger("dagster")]
        for logger in loggers:
            logger.addHandler(collect)
        try:
            first = tick(defs, instance)
            results = {r.partition_key: launch(defs, instance, r) for r in first.run_requests}
            # 3. The next tick.
            second = tick(defs, instance, cursor=first.cursor)
        finally:
            for logger in loggers:
                logger.removeHandler(collect)
        yield Batch(
            table=table,
            voice_table=voice_table,
            missing_column_table=missing_column_table,
            bucket=bucket,
            artifacts=tmp_path / "artifacts",
            defs=defs,
            instance=instance,
            good=good,
            bad=bad,
            fixable=keys[-1],
            results=results,
            first=first,
            second=second,
            logs=collect.lines,
            secrets=[nocodb_server.api_token, s3_server.secret_key],
        )
        for made in (table, voice_table, missing_column_table):
            nocodb.delete_table(nocodb_server, made)


def _row(nocodb_server, key: str) -> dict:
    record_key = RecordKey.parse(key)
    return nocodb.get_row(nocodb_server, record_key.table, int(record_key.row))


def test_the_catalogue_is_big_enough(batch: Batch) -> None:
    # Bad rows, plus three bad table configurations (missing columns, unknown table, unknown voice).
    assert len(batch.bad) + 2 >= 20
    assert sorted(r.partition_key for r in batch.first.run_requests) == sorted([*batch.good, *batch.bad, batch.fixable])


def test_every_good_row_is_done_with_a_playable_video(batch: Batch, nocodb_server) -> None:
    for key in batch.good:
        assert batch.results[key].success, failure_message(batch.results[key])
        row = _row(nocodb_server, key)
        assert row["status"] == "done" and not row["error"], row
        response = requests.get(row["chengpinurl"], timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"] == "video/mp4"
        assert response.content[4:8] == b"ftyp"


def test_hostile_text_reaches_ffmpeg_escaped(batch: Batch) -> None:
    """The script's control characters are gone and its ASS override block is shown as text, not obeyed."""
    key = next(iter(batch.good))
    subtitles = (batch.artifacts / key / "composite" / "subtitles.ass").read_text(encoding="utf-8")
    dialogue = "\n".join(line for line in subtitles.splitlines() if line.startswith("Dialogue:"))
    assert "drawtext=text='x':y=1" in dialogue  # filter syntax is just text in a subtitle file
    assert "\\{" in dialogue and "{\\fs200}" not in dialogue
    assert not any(ch in dialogue for ch in "\x07\u202e\x00")


def test_every_bad_row_failed_with_its_message_and_left_nothing_in_the_bucket(batch: Batch, s3_server) -> None:
    for key, message in batch.bad.items():
        assert not batch.results[key].success, key
        assert message in failure_message(batch.results[key]), (key, failure_message(batch.results[key]))
        assert object_keys(s3_server, batch.bucket, f"videos/{key}/") == [], key


def test_every_bad_row_shows_failed_and_why(batch: Batch, nocodb_server) -> None:
    for key, message in batch.bad.items():
        row = _row(nocodb_server, key)
        assert row["status"] == "failed" and message in row["error"], (key, row)
        assert not row.get("chengpinurl")
        # A short reason a user can read: the stage and the message, no traceback.
        assert len(row["error"]) <= 500 and "Traceback" not in row["error"]


def test_bad_rows_fail_early(batch: Batch) -> None:
    """A bad row stops at the stage that found the problem: the stages after it do not run."""
    for key in batch.bad:
        steps = {e.step_key for e in batch.results[key].all_events if e.event_type_value == "STEP_SUCCESS"}
        assert not steps & {"avatar_video", "composite", "public_url", "nocodb_sync"}, (key, steps)


def test_bad_table_configurations_skip_their_table_with_the_reason(batch: Batch) -> None:
    second = batch.second.skip_reason.skip_message
    assert f"{batch.missing_column_table}: NocoDB answered 404" in second
    assert re.search(r"Field '([^']*, )?status(, [^']*)?' not found", second), second  # NocoDB lists every missing one
    assert "`talking-head setup` adds the status and error columns" in second
    assert "nosuchtable0: NocoDB has no tables/nosuchtable0" in second


def test_the_sensor_keeps_ticking_and_requests_nothing_twice(batch: Batch, nocodb_server) -> None:
    assert list(batch.second.run_requests or []) == []
    # A failed row, fixed and set to 'retry', runs again, alone.
    fixed_key = batch.fixable
    assert not batch.results[fixed_key].success and FIXABLE[2] in failure_message(batch.results[fixed_key])
    assert _row(nocodb_server, fixed_key)["status"] == "failed"
    record_key = RecordKey.parse(fixed_key)
    nocodb.update_rows(
        nocodb_server, batch.table, [{"Id": int(record_key.row), "content": "Now short enough.", "status": "retry"}]
    )
    third = tick(batch.defs, batch.instance, cursor=batch.second.cursor)
    assert [r.partition_key for r in third.run_requests] == [fixed_key]
    assert _row(nocodb_server, fixed_key)["status"] == "queued"
    result = launch(batch.defs, batch.instance, third.run_requests[0])
    assert result.success, failure_message(result)
    row = _row(nocodb_server, fixed_key)
    assert row["status"] == "done" and not row["error"] and row["chengpinurl"]
    assert not tick(batch.defs, batch.instance, cursor=third.cursor).run_requests


def test_no_secret_shows_anywhere(batch: Batch, nocodb_server) -> None:
    """Logs, every event of every run (messages, metadata, errors), tags, skip reasons and the rows."""
    seen: list[str] = list(batch.logs)
    for result in batch.results.values():
        run = batch.instance.get_run_by_id(result.run_id)
        seen += [repr(run.tags), repr(run.run_config)]
        seen += [repr(entry) for entry in batch.instance.all_logs(result.run_id)]
        seen.append(failure_message(result))
    seen += [repr(batch.first), repr(batch.second)]
    seen += [repr(_row(nocodb_server, key)) for key in [*batch.good, *batch.bad]]
    text = "\n".join(seen)
    assert len(text) > 50_000  # the scan reads the real thing, not an empty list
    assert all(message in text for message in batch.bad.values())  # ... including every raised message
    for secret in batch.secrets:
        assert secret and secret not in text


def test_a_wrong_token_skips_the_tick_without_showing_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, s3_server, batch: Batch
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    settings = deployment_settings(tmp_path, nocodb_server, s3_server, [batch.table], batch.bucket)
    settings.nocodb.api_token = SecretStr(wrong)
    defs = deploy(monkeypatch, settings, nocodb_server, s3_server)
    monkeypatch.setenv(NOCODB_TOKEN_ENV, wrong)  # what the EnvVar resolves to at tick time
    result = tick(defs, instance)
    assert not result.run_requests
    assert "refused the API token" in result.skip_reason.skip_message
    assert wrong not in repr(result)
