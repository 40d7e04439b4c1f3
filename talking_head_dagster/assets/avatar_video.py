import dagster as dg

from talking_head_dagster.assets.stage import GROUP, Stopwatch, record_identity, stage_errors
from talking_head_dagster.assets.tts_audio import tts_audio
from talking_head_dagster.display import seconds, speed
from talking_head_dagster.manifests import AvatarManifest
from talking_head_dagster.partitions import RecordKey, records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.avatar import AvatarRenderer
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.speech.timing import SpeechManifest

MP4 = "avatar.mp4"
# A longer backend choice goes to an entry of its own, as a list (the CPU path names every missing part).
CHOICE_CHARS = 80

# The GPU's steps: at most the pool's limit at once across all runs (dagster.yaml, `concurrency: pools:`).
GPU_POOL = "gpu"
# On Kubernetes (k8s_job_executor) the step's pod asks for one GPU; elsewhere the tag is inert.
K8S_GPU_CONFIG = {"container_config": {"resources": {"limits": {"nvidia.com/gpu": 1}}}}


@dg.asset(
    partitions_def=records,
    group_name=GROUP,
    deps=[tts_audio],
    kinds={"python"},
    code_version="1",
    pool=GPU_POOL,
    op_tags={"dagster-k8s/config": K8S_GPU_CONFIG},
)
def avatar_video(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStore,
    avatar: AvatarRenderer,
    ffmpeg: FFmpegResource,
) -> dg.MaterializeResult:
    """The portrait animated by the speech: a square talking head with the speech muxed in."""
    key = context.partition_key
    watch = Stopwatch()
    with stage_errors(context):
        speech = artifacts.manifest(key, "tts_audio", SpeechManifest)
        wav = artifacts.file(key, "tts_audio", speech.wav_file)
        staging = artifacts.staging_dir(key, "avatar_video")
        last_logged = [-1]

        def progress(done: int, total: int) -> None:
            quarter = 4 * done // max(total, 1)
            if quarter > last_logged[0]:
                last_logged[0] = quarter
                context.log.debug(f"{key}: avatar frame {done}/{total}")

        result = avatar.render(wav, staging / MP4, ffmpeg.exe, progress, portrait=_table_portrait(context))
        manifest = AvatarManifest(file=MP4, **result.__dict__)
        final = artifacts.commit(key, "avatar_video", staging, manifest)
    fps = result.frames / max(result.render_seconds, 1e-6)
    if result.choice:
        context.log.info(f"{key}: {result.choice}")
    context.log.info(f"{key}: {result.frames} avatar frames with '{result.backend}' at {fps:.0f} fps")
    metadata = {
        **record_identity(context, speech.text),
        "backend": result.backend,
        "portrait": result.portrait,
        "frames": result.frames,
        "resolution": f"{result.width}x{result.height}",
        "duration": seconds(result.duration_s),
        "render_speed": f"{fps:.0f} frames/s, " + speed(result.render_seconds / max(result.duration_s, 1e-6)),
        "path": dg.MetadataValue.path(str(final / MP4)),
        "render_fps": round(fps, 1),
        "stage_seconds": watch.seconds,
    }
    optional = {
        "model": result.model,
        "attention": result.attention,
        "avatar_server": result.server,
    }
    metadata |= {name: value for name, value in optional.items() if value is not None}
    if result.choice:
        metadata |= backend_choice(result.choice)
    return dg.MaterializeResult(metadata=metadata)


def backend_choice(choice: str) -> dict[str, object]:
    """Why 'auto' chose this backend: one short line, and the reasons as a list beside it when long.

    ``auto: flashhead is not usable here: <reason>; <reason>`` reads ``auto: flashhead is not
    usable here (why: see backend_choice_details)``.
    """
    if len(choice) <= CHOICE_CHARS:
        return {"backend_choice": choice}
    head, _, details = choice.partition(": ")
    what, sep, why = details.partition(": ")
    if sep:  # "auto: <what>: <why>"
        head, details = f"{head}: {what}", why
    reasons = [reason.strip() for reason in details.split("; ") if reason.strip()]
    return {
        "backend_choice": f"{head} (why: see backend_choice_details)",
        "backend_choice_details": dg.MetadataValue.md("\n".join(f"- {reason}" for reason in reasons)),
    }


def _table_portrait(context: dg.AssetExecutionContext) -> str | None:
    """The portrait of the row's table (one table per presenter or channel), if it names one."""
    key = RecordKey.parse(context.partition_key)
    nocodb = getattr(context.resources, "nocodb", None) or NocoDBResource.for_run(context.run.run_id)
    return None if key.is_local or nocodb is None else nocodb.table(key.table).portrait
