"""What a record is: one row's source URL, script, layout and voice, with a version that changes when they do."""

import hashlib
import unicodedata
from typing import Any, Protocol

from pydantic import BaseModel, field_validator

from talking_head_dagster.partitions import RecordKey

# Bidirectional overrides and isolates: invisible, and able to make text read otherwise than it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_script(text: str) -> str:
    """A script as every stage sees it: NFC, line breaks kept, tabs as spaces, no control characters.

    Control characters, bidi overrides, unassigned and private-use code points can't be spoken or
    shown, and could reach a subtitle or an FFmpeg filter: they are dropped here, once, for all.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(
        ch
        for ch in text
        if ch == "\n" or (unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn") and ch not in _BIDI_CONTROLS)
    )


class Record(BaseModel):
    key: str
    url: str
    content: str
    voice: str | None = None  # the table's voice (or a one-off render's)
    row_voice: str | None = None  # the row's own choice, from the table's voice_column: overrides ``voice``
    layout: str | None = None

    @field_validator("content")
    @classmethod
    def _clean_content(cls, content: str) -> str:
        return clean_script(content)

    @property
    def record_key(self) -> RecordKey:
        return RecordKey.parse(self.key)

    @property
    def version(self) -> str:
        """Content hash of what the video is made from: a new version means a new render."""
        return record_version(self.url, self.content, self.layout, self.row_voice)


def record_version(url: str, content: str, layout: str | None = None, row_voice: str | None = None) -> str:
    """A row's layout and voice choices are part of what the video is made from; rows without them keep old versions."""
    made_from = f"{url}\n{content}" if not layout else f"{url}\n{content}\n{layout}"
    if row_voice:
        made_from += f"\nvoice:{row_voice}"
    return hashlib.sha256(made_from.encode()).hexdigest()[:12]


class ColumnMapping(Protocol):
    url_column: str
    content_column: str
    voice: str | None
    voice_column: str | None
    layout: str | None
    layout_column: str | None


def row_record(key: str, row: dict[str, Any], mapping: ColumnMapping) -> Record:
    """The record a NocoDB row describes, read through its table's column mapping."""
    row_layout = str(row.get(mapping.layout_column) or "").strip().lower() if mapping.layout_column else ""
    row_voice = str(row.get(mapping.voice_column) or "").strip() if mapping.voice_column else ""
    return Record(
        key=key,
        url=str(row.get(mapping.url_column) or "").strip(),
        content=str(row.get(mapping.content_column) or ""),
        voice=mapping.voice,
        row_voice=row_voice or None,
        layout=row_layout or mapping.layout or None,
    )
