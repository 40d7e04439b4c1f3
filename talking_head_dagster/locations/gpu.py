"""The GPU code location: avatar_video alone (pool ``gpu``), started once a row's speech is ready.

Its code server's container context (compose.yaml, deploy/k8s/) gives this location's runs the GPU.
"""

import dagster as dg

from talking_head_dagster.cleanup import artifact_cache_cleanup, artifact_cache_cleanup_schedule
from talking_head_dagster.locations import (
    AVATAR_JOB,
    GPU_ASSETS,
    PREPARE_JOB,
    load_settings,
    location_definitions,
    stage_job,
)
from talking_head_dagster.sensors.stage_chain import build_stage_chain_sensor
from talking_head_dagster.settings import Settings


def build_gpu_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = load_settings(settings)
    avatar = stage_job(AVATAR_JOB, settings)
    after_prepare = build_stage_chain_sensor(
        "avatar_after_prepare", PREPARE_JOB, avatar, minimum_interval_seconds=settings.stage_sensor_interval_s
    )
    # This host's cache of the artifact store; the CPU location prunes the store itself (S3).
    return location_definitions(
        settings,
        GPU_ASSETS,
        [avatar, artifact_cache_cleanup],
        [after_prepare],
        schedules=[artifact_cache_cleanup_schedule],
    )


defs = build_gpu_definitions()
