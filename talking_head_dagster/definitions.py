"""The single code location of the embedded default: all six assets, the job and the sensor."""

import dagster as dg

from talking_head_dagster.assets import RECORD_ASSETS
from talking_head_dagster.assets.public_url import with_publish_kind
from talking_head_dagster.cleanup import artifact_cleanup, artifact_cleanup_schedule
from talking_head_dagster.jobs import build_render_record_job
from talking_head_dagster.resources.factory import build_resources
from talking_head_dagster.sensors.nocodb_rows import build_nocodb_rows_sensor
from talking_head_dagster.settings import Settings, export_docker_secrets


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    export_docker_secrets()
    settings = settings or Settings()
    render_record_job = build_render_record_job(settings.retry)
    return dg.Definitions(
        assets=with_publish_kind(RECORD_ASSETS, settings.publish.backend),
        jobs=[render_record_job, artifact_cleanup],
        schedules=[artifact_cleanup_schedule],
        sensors=[
            build_nocodb_rows_sensor(
                render_record_job,
                minimum_interval_seconds=settings.sensor_interval_s,
                max_runs_per_tick=settings.nocodb.max_runs_per_tick,
                dead_run_grace_s=settings.dead_run_grace_s,
            )
        ],
        resources=build_resources(settings),
    )


defs = build_definitions()
