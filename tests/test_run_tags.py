"""Which row a run renders: tags for the Runs list, metadata for the partition pages."""

from talking_head_dagster.run_tags import (
    ROW_TAG,
    TABLE_TAG,
    TITLE_TAG,
    identity_metadata,
    missing_tags,
    record_tags,
)

SCRIPT = "Our new phone lasts two days on one charge, and here is how we measured it."


def test_a_row_is_named_by_table_row_and_title() -> None:
    tags = record_tags("m1vy_tbl-3", SCRIPT, title="Phone review")
    assert tags == {TABLE_TAG: "m1vy_tbl", ROW_TAG: "3", TITLE_TAG: "Phone review"}
    assert identity_metadata("m1vy_tbl-3", tags) == {"row": "table m1vy_tbl, row 3", "title": "Phone review"}


def test_without_a_title_the_scripts_first_words_stand_in() -> None:
    assert record_tags("m1vy_tbl-3", SCRIPT)[TITLE_TAG] == "Our new phone lasts two days…"
    # A run launched from the UI has no tags: its stages name it from the script.
    assert identity_metadata("local-2e638413d84b", {}, SCRIPT) == {
        "row": "one-off render",
        "title": "Our new phone lasts two days…",
    }
    assert identity_metadata("m1vy_tbl-3", {}) == {"row": "table m1vy_tbl, row 3"}


def test_only_a_run_without_the_tags_gets_them() -> None:
    tagged = record_tags("m1vy_tbl-3", SCRIPT, title="Phone review")
    assert missing_tags("m1vy_tbl-3", tagged, SCRIPT) == {}
    assert missing_tags("m1vy_tbl-3", {}, SCRIPT) == record_tags("m1vy_tbl-3", SCRIPT)
