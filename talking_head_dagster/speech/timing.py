"""Sentence timings of the synthesised speech, kept for subtitles and later stages."""

from pydantic import BaseModel


class SentenceTiming(BaseModel):
    index: int
    text: str  # the script's own text, as subtitles show it
    spoken: str | None = None  # what the voice was given to say (numbers, units, Latin words in words)
    start_s: float
    end_s: float


class SpeechManifest(BaseModel):
    wav_file: str
    text: str
    language: str
    voice: str
    sample_rate: int
    duration_s: float
    sentences: list[SentenceTiming]
    synthesis_seconds: float
