"""What a row is made into: the table's layout, overridden by the row's, and the version they give."""

from talking_head_dagster.records import record_version, row_record
from talking_head_dagster.resources.nocodb import TableMapping

ROW = {"Id": 7, "url": " https://example.com/v.mp4 ", "content": "Hello there.", "layout": ""}
# The versions these rows have always had (sha256 of what the video is made from, first 12 digits):
# a change to how versions are computed would render every finished row again.
PLAIN_VERSION = "23a3fe3a61e8"
ROW_VOICE_VERSION = "aeae17ee7fb4"


def test_a_row_without_a_layout_keeps_the_version_it_always_had() -> None:
    record = row_record("t-7", ROW, TableMapping(id="t"))
    assert record.url == "https://example.com/v.mp4"
    assert record.layout is None
    assert record.version == record_version("https://example.com/v.mp4", "Hello there.") == PLAIN_VERSION


def test_the_table_layout_applies_and_a_row_value_overrides_it() -> None:
    table = TableMapping(id="t", layout="split", layout_column="layout")
    from_table = row_record("t-7", ROW, table)
    from_row = row_record("t-7", {**ROW, "layout": " Full "}, table)
    assert from_table.layout == "split"
    assert from_row.layout == "full"
    # A different layout is a different video: a new version, so a retried row renders it.
    assert len({from_table.version, from_row.version, row_record("t-7", ROW, TableMapping(id="t")).version}) == 3


def test_a_row_voice_is_part_of_the_version_only_when_the_row_sets_one() -> None:
    table = TableMapping(id="t", voice="en_US-joe-medium", voice_column="voice")
    empty = row_record("t-7", {**ROW, "voice": "  "}, table)
    chosen = row_record("t-7", {**ROW, "voice": " zh_CN-huayan-medium "}, table)
    # The table's own voice and an empty cell keep the version rows always had.
    assert (empty.voice, empty.row_voice) == ("en_US-joe-medium", None)
    assert empty.version == PLAIN_VERSION
    assert chosen.row_voice == "zh_CN-huayan-medium"
    assert chosen.version == ROW_VOICE_VERSION
    assert chosen.version != empty.version
