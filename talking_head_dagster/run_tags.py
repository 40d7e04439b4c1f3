"""The tags that say which row a run renders, so the Runs list and the partition pages can tell rows apart."""

from collections.abc import Mapping

from talking_head_dagster.display import shorten
from talking_head_dagster.partitions import RecordKey

TABLE_TAG = "talking_head/table"
ROW_TAG = "talking_head/row"
TITLE_TAG = "talking_head/title"
# Set by the failure hook: which stage failed and why, readable in the Runs list.
ERROR_TAG = "talking_head/error"
# The whole message the row's error cell shows, kept on the run for when NocoDB missed it.
ROW_ERROR_TAG = "talking_head/row_error"
TITLE_CHARS = 30
ERROR_CHARS = 120


def record_tags(key: str, script: str, title: str | None = None) -> dict[str, str]:
    """Table, row and a title: the row's own title when it has one, else the script's first words."""
    record_key = RecordKey.parse(key)
    return {
        TABLE_TAG: record_key.table,
        ROW_TAG: record_key.row,
        TITLE_TAG: shorten(title if title and title.strip() else script, TITLE_CHARS) or "(empty script)",
    }


def row_title(row: dict, column: str | None = "Title") -> str | None:
    """A NocoDB row's title (``Title``, NocoDB's default display column), when it holds text."""
    title = row.get(column) if column else None
    return title if isinstance(title, str) and title.strip() else None


def identity_metadata(key: str, tags: Mapping[str, str], script: str | None = None) -> dict[str, str]:
    """Which row a materialization belongs to, to go first in its metadata: the partition pages show it.

    The title is the run's (the row's Title or the script's first words), else the ``script``'s.
    """
    record_key = RecordKey.parse(key)
    row = "one-off render" if record_key.is_local else f"table {record_key.table}, row {record_key.row}"
    title = tags.get(TITLE_TAG) or (shorten(script, TITLE_CHARS) if script and script.strip() else None)
    return {"row": row, "title": title} if title else {"row": row}


def missing_tags(key: str, tags: Mapping[str, str], script: str) -> dict[str, str]:
    """The identity tags a run lacks (one launched from the UI has none), from the row's script."""
    return {} if TITLE_TAG in tags else record_tags(key, script)
