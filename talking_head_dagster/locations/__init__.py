"""The production deployment's two code locations, built from the same asset modules as the single one.

- ``talking_head_dagster.locations.cpu``: source_video, tts_audio, composite, public_url,
  nocodb_sync; the NocoDB sensor (which requests ``record_prepare``) and ``finish_after_avatar``.
- ``talking_head_dagster.locations.gpu``: avatar_video (pool ``gpu``) and ``avatar_after_prepare``.

Asset keys are global, so each location names the other's assets as plain dependencies and the UI
shows one lineage across both. ``talking_head_dagster.definitions`` stays the single location of
the embedded default (one run renders a row). How a row crosses locations: ``sensors/stage_chain.py``.
"""

import json

import dagster as dg

from talking_head_dagster.assets import avatar_video, composite, nocodb_sync, public_url, source_video, tts_audio
from talking_head_dagster.assets.avatar_video import K8S_GPU_CONFIG
from talking_head_dagster.assets.public_url import with_publish_kind
from talking_head_dagster.jobs import build_render_record_job
from talking_head_dagster.resources.factory import build_resources
from talking_head_dagster.settings import Settings, export_docker_secrets

PREPARE_JOB = "record_prepare"
AVATAR_JOB = "record_avatar"
FINISH_JOB = "record_finish"
STAGE_TAG = "talking_head/stage"

# Which assets each run of a row renders, in which location.
CPU_ASSETS = [source_video, tts_audio, composite, public_url, nocodb_sync]
GPU_ASSETS = [avatar_video]
STAGE_ASSETS = {
    PREPARE_JOB: [source_video, tts_audio],
    AVATAR_JOB: [avatar_video],
    FINISH_JOB: [composite, public_url, nocodb_sync],
}


# On Kubernetes (K8sRunLauncher) the avatar run's own pod asks for the GPU; the step's op tags do the
# same for a step pod under k8s_job_executor.
STAGE_RUN_TAGS = {AVATAR_JOB: {"dagster-k8s/config": json.dumps(K8S_GPU_CONFIG)}}


def stage_job(name: str, settings: Settings):
    """One row's run of one group of stages, with the single location's executor, failure hook and retries.

    Its ``talking_head/stage`` tag lets the run queue limit each group on its own (dagster.yaml).
    """
    whole = build_render_record_job(settings.retry)
    return dg.define_asset_job(
        name=name,
        selection=dg.AssetSelection.assets(*STAGE_ASSETS[name]),
        executor_def=whole.executor_def,
        hooks=whole.hooks,
        op_retry_policy=whole.op_retry_policy,
        tags={STAGE_TAG: name.removeprefix("record_"), **STAGE_RUN_TAGS.get(name, {})},
        description=f"{whole.description} Stages: {', '.join(a.key.to_user_string() for a in STAGE_ASSETS[name])}.",
    )


def location_definitions(settings: Settings, assets: list, jobs: list, sensors: list, **more) -> dg.Definitions:
    return dg.Definitions(
        assets=with_publish_kind(assets, settings.publish.backend),
        jobs=jobs,
        sensors=sensors,
        resources=build_resources(settings),
        **more,
    )


def load_settings(settings: Settings | None) -> Settings:
    export_docker_secrets()
    return settings or Settings()
