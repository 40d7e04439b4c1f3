"""One stage of one record in a real job with the deployment's transient retry policy, in process."""

import dagster as dg

from talking_head_dagster.partitions import records
from talking_head_dagster.retry import transient_retry_policy
from talking_head_dagster.settings import RetrySettings


def run_stage(
    asset: dg.AssetsDefinition, resources: dict, key: str, retry: RetrySettings, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """Materialise ``asset`` for partition ``key``; its events (retries, failure) stay in ``instance``."""
    job = dg.define_asset_job(
        "stage", selection=[asset], executor_def=dg.in_process_executor, op_retry_policy=transient_retry_policy(retry)
    )
    defs = dg.Definitions(assets=[asset], jobs=[job], resources=resources)
    instance.add_dynamic_partitions(records.name, [key])
    return defs.resolve_job_def("stage").execute_in_process(partition_key=key, instance=instance, raise_on_error=False)


def logged(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    """The run's events of one kind, as the instance's event log holds them."""
    records_ = instance.get_records_for_run(run_id, of_type=kind).records
    return [r.event_log_entry.dagster_event for r in records_]
