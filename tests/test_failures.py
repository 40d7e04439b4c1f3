"""What a failed step tells the user: its own reason and its kind, also after every retry ran out."""

import dagster as dg

from talking_head_dagster.assets.stage import stage_errors
from talking_head_dagster.errors import EmptyScriptError, SourceUnavailableError
from talking_head_dagster.failures import Kind, check_reason, failure_message, step_failure
from talking_head_dagster.hooks.row_failure import failure_reason
from talking_head_dagster.partitions import records

KEY = "local-failures_test"
REASON = "The source site refused the connection (http://127.0.0.1:9/clip.mp4)."
hook_saw: list[str] = []


@dg.failure_hook
def remember(context: dg.HookContext) -> None:
    hook_saw.append(failure_reason(context.op_exception))


def _run(error: Exception) -> dg.ExecuteInProcessResult:
    @dg.asset(partitions_def=records, name="source_video")
    def stage(context: dg.AssetExecutionContext) -> None:
        with stage_errors(context):
            raise error

    job = dg.define_asset_job(
        "failing", hooks={remember}, op_retry_policy=dg.RetryPolicy(max_retries=2, delay=0)
    ).resolve(asset_graph=dg.Definitions(assets=[stage]).resolve_asset_graph())
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(records.name, [KEY])
        return job.execute_in_process(partition_key=KEY, instance=instance, raise_on_error=False)


def test_a_temporary_error_keeps_its_reason_after_the_last_retry() -> None:
    hook_saw.clear()
    result = _run(SourceUnavailableError(REASON))
    [failure] = [step_failure(e) for e in result.all_events if e.is_step_failure]
    assert failure.kind == Kind.TEMPORARY
    assert failure.reason == f"{REASON} (still failing after 2 retries)"
    assert REASON in failure_message(result)
    # What the failure hook writes into the row's error cell.
    assert hook_saw == [REASON]


def test_a_bad_input_is_its_own_kind_and_is_not_retried() -> None:
    hook_saw.clear()
    result = _run(EmptyScriptError("The script is empty."))
    failures = [step_failure(e) for e in result.all_events if e.is_step_failure]
    assert [(f.kind, f.reason) for f in failures] == [(Kind.INPUT, "The script is empty.")]
    assert not any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)


def test_a_failed_check_is_told_in_its_own_words() -> None:
    def evaluation(passed: bool, severity: dg.AssetCheckSeverity) -> dg.AssetCheckEvaluation:
        return dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("composite"),
            check_name="under_size_cap",
            passed=passed,
            severity=severity,
            description="the video is 2.7 MiB, over the 0.3 MiB cap",
        )

    assert check_reason(evaluation(False, dg.AssetCheckSeverity.ERROR)) == "the video is 2.7 MiB, over the 0.3 MiB cap"
    assert check_reason(evaluation(False, dg.AssetCheckSeverity.WARN)) is None  # a warning withholds nothing
    assert check_reason(evaluation(True, dg.AssetCheckSeverity.ERROR)) is None
