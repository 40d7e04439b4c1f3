"""The tags that say which row a run renders, so the Runs list and the partition pages can tell rows apart."""

from talking_head_dagster.display import shorten
from talking_head_dagster.partitions import RecordKey

TABLE_TAG = "talking_head/table"
ROW_TAG = "talking_head/row"
TITLE_TAG = "talking_head/title"
TITLE_CHARS = 30


def record_tags(key: str, script: str, title: str | None = None) -> dict[str, str]:
    """Table, row and a title: the row's own title when it has one, else the script's first words."""
    record_key = RecordKey.parse(key)
    return {
        TABLE_TAG: record_key.table,
        ROW_TAG: record_key.row,
        TITLE_TAG: shorten(title if title and title.strip() else script, TITLE_CHARS) or "(empty script)",
    }


def row_title(row: dict) -> str | None:
    """A NocoDB row's ``Title`` (its default display column), when it holds text."""
    title = row.get("Title")
    return title if isinstance(title, str) and title.strip() else None
