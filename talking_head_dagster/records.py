"""What a record is: one row's source URL and script, with a version that changes when they do."""

import hashlib

from pydantic import BaseModel

from talking_head_dagster.partitions import RecordKey


class Record(BaseModel):
    key: str
    url: str
    content: str
    voice: str | None = None

    @property
    def record_key(self) -> RecordKey:
        return RecordKey.parse(self.key)

    @property
    def version(self) -> str:
        """Content hash of what the video is made from: a new version means a new render."""
        return record_version(self.url, self.content)


def record_version(url: str, content: str) -> str:
    return hashlib.sha256(f"{url}\n{content}".encode()).hexdigest()[:12]
