"""NocoDB is down at the moment runs fail: the failure hook only logs (the run keeps its own reason),
and once NocoDB is back the sensor's stale sweep writes each row's reason, row by row when the
batched write is cut. On the real NocoDB, through a fault proxy (tests/support/fault_proxy.py).
"""

from pathlib import Path

import pytest

from talking_head_dagster.run_tags import ROW_ERROR_TAG
from talking_head_dagster.sensors import row_plan
from tests.services import nocodb
from tests.support.deployment import deploy, launch, proxied_nocodb_settings, tick
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.integration
STATUS_COLUMNS = [{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}]
REASON = (
    "source_video: The source URL cell has no http(s) link in it: a link must start with http:// or https:// "
    "(the cell reads 'javascript:void(0)')."
)


@pytest.fixture
def nocodb_proxy(nocodb_server):
    proxy = FaultProxy(nocodb_server.base_url).start()
    yield proxy
    proxy.stop()


def test_rows_whose_runs_failed_while_nocodb_was_down_end_failed_with_their_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, nocodb_table, s3_server, nocodb_proxy
) -> None:
    table = nocodb_table("nocodbdown", STATUS_COLUMNS)
    ids = nocodb.insert_rows(
        nocodb_server, table, [{"url": "javascript:void(0)", "content": f"Row {i}."} for i in range(2)]
    )
    settings = proxied_nocodb_settings(tmp_path, nocodb_server, nocodb_proxy.url, s3_server, table)
    defs = deploy(monkeypatch, settings, nocodb_server, s3_server)
    requests = tick(defs, instance).run_requests
    assert len(requests) == 2

    # 1. Both runs fail at their first stage, and NocoDB stops just as the hook writes the failure:
    # the hook logs, and the run keeps the stage's own reason.
    for request in requests:
        nocodb_proxy.stop_when(lambda number, chunk, sent: b'"failed"' in chunk)
        result = launch(defs, instance, request)
        assert not nocodb_proxy.running
        nocodb_proxy.start()
        assert not result.success
        assert instance.get_run_by_id(result.run_id).tags[ROW_ERROR_TAG] == REASON
        logged = [e.message for e in instance.all_logs(result.run_id) if e.level >= 30]
        assert any("could not write the failure into the row" in m for m in logged), logged
    assert _cells(nocodb_server, table, ids) == [("downloading", "")] * 2

    # 2. NocoDB is back. Right after the runs ended the rows are left (a final write may be on its way).
    assert tick(defs, instance).run_requests == []
    assert _cells(nocodb_server, table, ids) == [("downloading", "")] * 2

    # 3. Past STALE_AFTER_S the sweep writes both rows' reasons; the batched write is cut, so they go
    # row by row.
    ended = max(record.end_time for record in instance.get_run_records())
    monkeypatch.setattr(row_plan, "clock", lambda: ended + row_plan.STALE_AFTER_S + 1)
    nocodb_proxy.drop_when(lambda number, chunk, sent: chunk.startswith(b"PATCH"))
    assert tick(defs, instance).run_requests == []
    assert nocodb_proxy.drops == 1
    assert _cells(nocodb_server, table, ids) == [("failed", REASON)] * 2


def _cells(server, table: str, ids: list[int]) -> list[tuple[str | None, str | None]]:
    rows = [nocodb.get_row(server, table, row_id) for row_id in ids]
    return [(row.get("status"), row.get("error")) for row in rows]
