import dagster as dg

from talking_head_dagster.assets.stage import GROUP, Stopwatch, load_record, stage_errors
from talking_head_dagster.partitions import records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.resources.speech import PiperSpeech
from talking_head_dagster.speech.timing import SpeechManifest

WAV = "speech.wav"


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
        f"with {result.voice} (real-time factor {rtf:.2f})"
    )
    timings = "\n".join(
        f"| {s.index} | {s.start_s:.2f} | {s.end_s:.2f} | {_cell(s.text)} | {_cell(s.spoken or s.text)} |"
        for s in result.sentences[:50]
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(final / WAV)),
            "duration_s": round(result.duration_s, 3),
            "voice": result.voice,
            "language": result.language,
            "sample_rate": result.sample_rate,
            "sentences": len(result.sentences),
            "real_time_factor": round(rtf, 3),
            "sentence_timings": dg.MetadataValue.md(
                "| # | start s | end s | text | spoken as |\n|---|---|---|---|---|\n" + timings
            ),
            "stage_seconds": watch.seconds,
        },
        data_version=dg.DataVersion(record.version),
    )


def _cell(text: str) -> str:
    return text[:60].replace("|", "/")
