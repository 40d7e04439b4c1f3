"""What a download leaves for the source_video stage: the file, and how it was obtained."""

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DownloadedSource:
    path: Path
    kind: str  # e.g. "yt-dlp", "Douyin video (built-in resolver)", "Douyin photo post: slideshow of 5 images"
    notes: list[str] = field(default_factory=list)  # what the stage should log (a fallback taken...)
