"""The CPU code location: every stage but the avatar, the NocoDB sensor, the hand-on after the avatar, clean-up."""

import dagster as dg

from talking_head_dagster.cleanup import artifact_cleanup, artifact_cleanup_schedule
from talking_head_dagster.locations import (
    AVATAR_JOB,
    CPU_ASSETS,
    FINISH_JOB,
    PREPARE_JOB,
    load_settings,
    location_definitions,
    stage_job,
)
from talking_head_dagster.sensors.nocodb_rows import build_nocodb_rows_sensor
from talking_head_dagster.sensors.stage_chain import build_stage_chain_sensor
from talking_head_dagster.settings import Settings


def build_cpu_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = load_settings(settings)
    prepare, finish = stage_job(PREPARE_JOB, settings), stage_job(FINISH_JOB, settings)
    rows = build_nocodb_rows_sensor(
        prepare,
        minimum_interval_seconds=settings.sensor_interval_s,
        max_runs_per_tick=settings.nocodb.max_runs_per_tick,
        dead_run_grace_s=settings.dead_run_grace_s,
        swept_jobs=(AVATAR_JOB, FINISH_JOB),  # with the local launcher, the GPU location's runs too
    )
    after_avatar = build_stage_chain_sensor(
        "finish_after_avatar", AVATAR_JOB, finish, minimum_interval_seconds=settings.stage_sensor_interval_s
    )
    # The artifact store's hourly clean-up runs here: the CPU location reaches the same store.
    return location_definitions(
        settings,
        CPU_ASSETS,
        [prepare, finish, artifact_cleanup],
        [rows, after_avatar],
        schedules=[artifact_cleanup_schedule],
    )


defs = build_cpu_definitions()
