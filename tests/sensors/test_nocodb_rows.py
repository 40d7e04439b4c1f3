"""The NocoDB sensor against the real NocoDB: filtering, paging, run keys, and a 10,000-row table."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.records import record_version
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.sensors.cursor import SweepCursor
from talking_head_dagster.sensors.nocodb_rows import run_key
from tests.services import nocodb
from tests.support.deployment import deploy, deployment_settings, tick

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def big_table(nocodb_server) -> Iterator[tuple[str, list[int]]]:
    """10,000 rows, all done but 25 scattered ones; the table is deleted after the module."""
    table = nocodb.create_table(nocodb_server, f"big_{uuid.uuid4().hex[:8]}")
    pending = set(range(7, 10_000, 400))
    rows = [
        {
            "url": f"https://example.com/v/{i}.mp4",
            "content": f"Script number {i}.",
            **({} if i in pending else {"chengpinurl": f"https://cdn.example.com/{i}.mp4"}),
        }
        for i in range(10_000)
    ]
    ids = nocodb.insert_rows(nocodb_server, table, rows)
    yield table, [ids[i] for i in sorted(pending)]
    nocodb.delete_table(nocodb_server, table)


def test_tick_over_10000_rows_reads_only_candidates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, s3_server, big_table
) -> None:
    table, pending_ids = big_table
    defs = deploy(
        monkeypatch,
        deployment_settings(tmp_path, nocodb_server, s3_server, [table], "unused"),
        nocodb_server,
        s3_server,
    )
    pages: list[int] = []  # the rows of each page of records NocoDB answered
    request = NocoDBResource._request

    def counted(self, method: str, path: str, *args, **kwargs):
        body = request(self, method, path, *args, **kwargs)
        if method == "GET" and path.endswith(f"/tables/{table}/records"):
            pages.append(len(body["list"]))
        return body

    monkeypatch.setattr(NocoDBResource, "_request", counted)
    result = tick(defs, instance)
    assert sorted(int(RecordKey.parse(r.partition_key).row) for r in result.run_requests) == pending_ids
    for request in result.run_requests:
        row = int(RecordKey.parse(request.partition_key).row)
        index = row - min(pending_ids) + 7  # ids are consecutive from the table's first row
        version = record_version(f"https://example.com/v/{index}.mp4", f"Script number {index}.")
        assert request.run_key == run_key(request.partition_key, version)
    # NocoDB filtered the table: one page with the 25 candidates, not 10,000 rows (speed: benchmarks/sensor_tick.py).
    assert pages == [len(pending_ids)]


def test_run_budget_pages_through_a_large_backlog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, s3_server, nocodb_table
) -> None:
    table = nocodb_table("backlog")
    ids = nocodb.insert_rows(
        nocodb_server, table, [{"url": f"https://example.com/{i}.mp4", "content": f"Row {i}."} for i in range(130)]
    )
    settings = deployment_settings(tmp_path, nocodb_server, s3_server, [table], "unused")
    settings.nocodb.max_runs_per_tick = 50
    settings.nocodb.page_size = 40
    defs = deploy(monkeypatch, settings, nocodb_server, s3_server)

    seen: list[int] = []
    cursor = None
    for _ in range(3):
        result = tick(defs, instance, cursor)
        assert len(result.run_requests) <= 50
        # The daemon records a run for each request; here a run record with its run key stands in.
        for request in result.run_requests:
            _record_run(instance, request)
        seen += [int(RecordKey.parse(r.partition_key).row) for r in result.run_requests]
        cursor = result.cursor
    assert sorted(seen) == ids
    assert len(set(seen)) == len(seen)
    # Once every row version has a run, a full sweep requests nothing.
    for _ in range(3):
        result = tick(defs, instance, cursor)
        assert not result.run_requests
        cursor = result.cursor
    # Each sweep read the whole table (130 rows, under the scan limit of 4 x 50) and starts again at its top.
    assert SweepCursor.parse(cursor).after_id == {table: 0}


def _record_run(instance, request) -> None:
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    instance.add_run(
        DagsterRun(
            job_name="render_record",
            run_id=uuid.uuid4().hex,
            status=DagsterRunStatus.SUCCESS,
            tags={"dagster/run_key": request.run_key, "dagster/partition": request.partition_key},
        )
    )


def test_the_sensor_versions_a_row_as_the_stages_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, s3_server, nocodb_table
) -> None:
    """Every cell the version depends on is read by the tick (here per-row layout and voice columns)."""
    from talking_head_dagster.records import row_record
    from talking_head_dagster.resources.nocodb import TableMapping
    from talking_head_dagster.sensors.run_history import VERSION_TAG

    table = nocodb_table(
        "layout", [{"title": "layout", "uidt": "SingleLineText"}, {"title": "voice", "uidt": "SingleLineText"}]
    )
    row = {"url": "https://example.com/a.mp4", "content": "Split me.", "layout": "split", "voice": "zh"}
    [row_id] = nocodb.insert_rows(nocodb_server, table, [row])
    settings = deployment_settings(tmp_path, nocodb_server, s3_server, [table], "unused")
    settings.nocodb.tables[0].layout_column = "layout"
    settings.nocodb.tables[0].voice_column = "voice"
    defs = deploy(monkeypatch, settings, nocodb_server, s3_server)
    [request] = tick(defs, instance).run_requests
    full_row = nocodb.get_row(nocodb_server, table, row_id)
    mapping = TableMapping(id=table, layout_column="layout", voice_column="voice")
    stage_version = row_record(request.partition_key, full_row, mapping).version
    assert request.tags[VERSION_TAG] == stage_version
    assert stage_version != row_record(request.partition_key, {**full_row, "voice": ""}, mapping).version


def test_sensor_runs_name_their_row_by_its_title_or_first_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, s3_server, nocodb_table
) -> None:
    """A table with NocoDB's Title column tags runs with it; a table without one with the script's first words."""
    from talking_head_dagster.run_tags import ROW_TAG, TABLE_TAG, TITLE_TAG

    titled = nocodb_table("titled", [{"title": "Title", "uidt": "SingleLineText"}])
    plain = nocodb_table("plain")
    script = "A script long enough to be cut at a word boundary for the tag."
    [titled_id] = nocodb.insert_rows(
        nocodb_server, titled, [{"Title": "Phone prices", "url": "https://example.com/a.mp4", "content": script}]
    )
    [plain_id] = nocodb.insert_rows(nocodb_server, plain, [{"url": "https://example.com/b.mp4", "content": script}])
    settings = deployment_settings(tmp_path, nocodb_server, s3_server, [titled, plain], "unused")
    defs = deploy(monkeypatch, settings, nocodb_server, s3_server)
    tags = {request.partition_key: request.tags for request in tick(defs, instance).run_requests}
    assert tags[f"{titled}-{titled_id}"][TITLE_TAG] == "Phone prices"
    assert tags[f"{titled}-{titled_id}"][TABLE_TAG] == titled and tags[f"{titled}-{titled_id}"][ROW_TAG] == str(
        titled_id
    )
    assert tags[f"{plain}-{plain_id}"][TITLE_TAG] == "A script long enough to be…"
    # The table without a title column is remembered: later ticks read it without asking for one first.
    from talking_head_dagster.resources.nocodb import _TABLES_WITHOUT_TITLE

    assert (nocodb_server.base_url, plain) in _TABLES_WITHOUT_TITLE
    assert (nocodb_server.base_url, titled) not in _TABLES_WITHOUT_TITLE
