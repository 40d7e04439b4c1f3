"""The ``records`` dynamic partitions: one partition per NocoDB row.

A key reads ``<table>-<row>``: the NocoDB table id, a hyphen, the row id. Both parts are
restricted to ``[A-Za-z0-9_]`` so a key is reversible (split on the only hyphen) and safe
in file paths, S3 object keys and Dagster's UI selection syntax (no ``,``, ``[``, ``]`` or
``...``). One-off renders without a table use the pseudo-table ``local``.
"""

import re
from dataclasses import dataclass

import dagster as dg

records = dg.DynamicPartitionsDefinition(name="records")

LOCAL_TABLE = "local"
_PART = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(frozen=True)
class RecordKey:
    table: str
    row: str

    def __post_init__(self) -> None:
        for label, value in (("table id", self.table), ("row id", self.row)):
            if not _PART.match(value):
                raise ValueError(f"Invalid {label} {value!r}: use 1-64 characters from A-Z, a-z, 0-9 and _.")

    @property
    def is_local(self) -> bool:
        return self.table == LOCAL_TABLE

    def __str__(self) -> str:
        return f"{self.table}-{self.row}"

    @classmethod
    def parse(cls, key: str) -> "RecordKey":
        table, sep, row = key.partition("-")
        if not sep:
            raise ValueError(f"Invalid record key {key!r}: expected '<table>-<row>'.")
        return cls(table, row)
