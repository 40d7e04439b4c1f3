import pytest

from talking_head_dagster.partitions import RecordKey


@pytest.mark.parametrize(("table", "row"), [("m4x2abcd9", "1"), ("local", "0a1b2c3d4e5f"), ("t_1", "123456789")])
def test_key_round_trips_and_is_safe(table: str, row: str) -> None:
    key = str(RecordKey(table, row))
    assert RecordKey.parse(key) == RecordKey(table, row)
    assert not any(bad in key for bad in (",", "[", "]", "...", "/", " ", ".."))


@pytest.mark.parametrize("bad", ["", "abc", "a-b-c", "../etc-1", "a,b-1", "t-1]", "t-", "-1", "t-1.2"])
def test_invalid_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        RecordKey.parse(bad)


def test_local_records_are_marked() -> None:
    assert RecordKey.parse("local-abc").is_local
    assert not RecordKey.parse("m123-4").is_local
