"""The sensors that hand a row from one code location to the next: prepare -> avatar (GPU) -> finish.

In the two-location deployment a row is rendered by three runs, one per group of stages that share
a machine: ``record_prepare`` (CPU: source_video, tts_audio), ``record_avatar`` (GPU: avatar_video)
and ``record_finish`` (CPU: composite, public_url, nocodb_sync). Each location has a run status
sensor that watches every location for the previous group's successful run of a row and requests
its own group's run for the same partition.

Why sensors and not declarative automation (``AutomationCondition.eager()``): a sensor's run request
goes through the location's own job, so every run keeps the job's failure hook (the reason written
into the row), its transient retry policy and the row version tag; a finish run renders three
stages in one process instead of three; and a run key per upstream run (``<partition>:<run id>``)
makes a hand-off idempotent across daemon restarts. Automation would launch the assets as
implicit asset jobs without that hook or tag. Only runs of the pipeline's own jobs hand on: a stage
re-materialised alone from the UI or in-process with ``talking-head render`` does not start the
next location's work.
"""

import dagster as dg

from talking_head_dagster.sensors.run_history import PARTITION_TAG, VERSION_TAG

AFTER_RUN_TAG = "talking_head/after_run"


def build_stage_chain_sensor(name: str, after_job: str, job, minimum_interval_seconds: int = 2):
    """A sensor requesting ``job`` for a row once a run of ``after_job`` (in any location) succeeded for it."""

    @dg.run_status_sensor(
        name=name,
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitor_all_code_locations=True,
        request_job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Requests {job.name} for a row when its {after_job} run succeeds, in whichever location.",
    )
    def hand_on(context: dg.RunStatusSensorContext):
        run = context.dagster_run
        partition = run.tags.get(PARTITION_TAG)
        if run.job_name != after_job or not partition:
            return dg.SkipReason(f"Run {run.run_id} is not a {after_job} run of a row.")
        tags = {AFTER_RUN_TAG: run.run_id}
        if run.tags.get(VERSION_TAG):
            tags[VERSION_TAG] = run.tags[VERSION_TAG]
        return dg.RunRequest(run_key=f"{partition}:{run.run_id}", partition_key=partition, tags=tags)

    return hand_on
