import dagster as dg

from talking_head_dagster.assets.stage import GROUP, Stopwatch, load_record, record_identity, stage_errors
from talking_head_dagster.display import seconds, shorten, speed
from talking_head_dagster.partitions import records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.resources.speech import PiperSpeech
from talking_head_dagster.speech.timing import SpeechManifest

WAV = "speech.wav"
TIMING_ROWS = 50
CELL_CHARS = 60
SCRIPT_CHARS = 80


@dg.asset(partitions_def=records, group_name=GROUP, kinds={"python"}, code_version="1")
def tts_audio(
    context: dg.AssetExecutionContext,
    nocodb: NocoDBResource,
    artifacts: ArtifactStore,
    speech: PiperSpeech,
) -> dg.MaterializeResult:
    """The row's script spoken by a Piper voice, sentence by sentence, with sentence timings."""
    key = context.partition_key
    watch = Stopwatch()
    with stage_errors(context):
        record = load_record(key, nocodb, artifacts)
        staging = artifacts.staging_dir(key, "tts_audio")
        result = speech.synthesize(record.content, staging / WAV, voice_name=record.row_voice or record.voice)
        manifest = SpeechManifest(
            wav_file=WAV,
            text=record.content,
            language=result.language,
            voice=result.voice,
            sample_rate=result.sample_rate,
            duration_s=result.duration_s,
            sentences=result.sentences,
            synthesis_seconds=result.synthesis_seconds,
        )
        final = artifacts.commit(key, "tts_audio", staging, manifest)
    rtf = result.synthesis_seconds / result.duration_s
    context.log.info(
        f"{key}: {len(result.sentences)} sentences, {result.duration_s:.2f} s of speech "
        f"with {result.voice} ({speed(rtf)})"
    )
    timings = "\n".join(
        f"| {s.index} | {s.start_s:.2f} | {s.end_s:.2f} | {_cell(s.text)} | {_cell(s.spoken or s.text)} |"
        for s in result.sentences[:TIMING_ROWS]
    )
    more = len(result.sentences) - TIMING_ROWS
    return dg.MaterializeResult(
        metadata={
            **record_identity(context, record.content),
            "script": shorten(record.content, SCRIPT_CHARS),
            "duration": seconds(result.duration_s),
            "voice": result.voice,
            "language": result.language,
            "sample_rate": f"{result.sample_rate} Hz",
            "sentences": len(result.sentences),
            "synthesis_speed": speed(rtf),
            "sentence_timings": dg.MetadataValue.md(
                "| # | start (s) | end (s) | text | spoken as |\n|---|---|---|---|---|\n"
                + timings
                + (f"\n\n{more} more sentences are in the stage's manifest.json." if more > 0 else "")
            ),
            "path": dg.MetadataValue.path(str(final / WAV)),
            "stage_seconds": watch.seconds,
        },
        data_version=dg.DataVersion(record.version),
    )


def _cell(text: str) -> str:
    """A sentence in a table cell: one line, cut at a word (or character) with an ellipsis, no pipes."""
    return shorten(text, CELL_CHARS).replace("|", "/")
