"""How a stage's errors become Dagster's behaviour: no retry for bad input, bounded backoff for the world's trouble."""

import itertools
import time

import dagster as dg

from talking_head_dagster.assets.stage import stage_errors
from talking_head_dagster.errors import EmptyScriptError, SourceUnavailableError
from talking_head_dagster.hooks.row_failure import row_failure
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.retry import retries_within, transient_retry_policy, worst_case_wait
from talking_head_dagster.settings import RetrySettings

attempts: dict[str, list[float]] = {}
seen_clients: list[object] = []


def _stage(name: str, fail_times: int, error: Exception):
    @dg.asset(name=name, partitions_def=dg.StaticPartitionsDefinition(["local-abc"]))
    def _asset(context: dg.AssetExecutionContext) -> None:
        with stage_errors(context):
            attempts.setdefault(name, []).append(time.monotonic())
            seen_clients.append(NocoDBResource.for_run(context.run.run_id))
            if len(attempts[name]) <= fail_times:
                raise error

    return _asset


def _planned_waits(result: dg.ExecuteInProcessResult) -> list[float]:
    """The waits Dagster chose before each retry (backoff and jitter), as its STEP_UP_FOR_RETRY events say."""
    return [
        e.event_specific_data.seconds_to_wait for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"
    ]


def _run(assets: list, base_delay_s: float = 0.2, max_total_s: float = 3.0) -> dg.ExecuteInProcessResult:
    attempts.clear()
    seen_clients.clear()
    job = dg.define_asset_job(
        "stages",
        executor_def=dg.in_process_executor,
        hooks={row_failure},
        op_retry_policy=transient_retry_policy(RetrySettings(base_delay_s=base_delay_s, max_total_s=max_total_s)),
    )
    defs = dg.Definitions(assets=assets, jobs=[job], resources={"nocodb": NocoDBResource()})
    return defs.resolve_job_def("stages").execute_in_process(partition_key="local-abc", raise_on_error=False)


def test_the_retry_budget_bounds_the_total_wait() -> None:
    assert retries_within(5, 600) == 5 and worst_case_wait(5, 5) == 310 <= 600 < worst_case_wait(5, 6)
    assert retries_within(1, 0.5) == 1  # always at least one retry
    for base, total in ((0.2, 3.0), (2, 60), (5, 600), (10, 3600)):
        retries = retries_within(base, total)
        assert worst_case_wait(base, retries) <= max(total, worst_case_wait(base, 1))


def test_transient_errors_are_retried_with_growing_waits_until_they_pass() -> None:
    result = _run([_stage("flaky", 3, SourceUnavailableError("the site timed out"))])
    assert result.success
    times = attempts["flaky"]
    assert len(times) == 4
    # Backoff: wait n is (2**n - 1) * 0.2 s ± 0.2 s, so waits grow and all fit the budget, jitter included.
    planned = _planned_waits(result)
    assert len(planned) == 3
    for n, wait in enumerate(planned, start=1):
        assert (2**n - 2) * 0.2 <= wait <= 2**n * 0.2, (n, planned)
    assert sum(planned) <= worst_case_wait(0.2, 3)
    # ... and they were waited: each attempt came no sooner than its wait.
    waited = [b - a for a, b in itertools.pairwise(times)]
    assert all(real >= wait for real, wait in zip(waited, planned, strict=True)), (waited, planned)


def test_transient_errors_stop_after_the_budget() -> None:
    result = _run([_stage("down", 99, SourceUnavailableError("still down"))], base_delay_s=0.1, max_total_s=1.0)
    assert not result.success
    assert len(attempts["down"]) == 1 + retries_within(0.1, 1.0)
    assert len(_planned_waits(result)) == retries_within(0.1, 1.0) and sum(_planned_waits(result)) <= 1.0


def test_permanent_errors_fail_at_once_and_later_stages_do_not_run() -> None:
    result = _run([_stage("a_bad", 99, EmptyScriptError("The script is empty.")), _stage("b_next", 0, ValueError())])
    assert not result.success
    assert len(attempts["a_bad"]) == 1
    assert "b_next" not in attempts  # stopped before its body: the row failed already
    failures = {e.step_key: e.step_failure_data.user_failure_data for e in result.all_events if e.is_step_failure}
    assert failures["a_bad"].description == "The script is empty."
    assert failures["a_bad"].metadata["error_class"].value == "permanent"
    assert failures["b_next"].metadata["error_class"].value == "skipped"


def test_unexpected_errors_are_not_retried() -> None:
    result = _run([_stage("bug", 99, KeyError("oops"))])
    assert not result.success and len(attempts["bug"]) == 1


def test_a_stage_without_the_nocodb_resource_still_finds_the_runs_client() -> None:
    """The failure hook makes every run of the job initialise NocoDB; the composite finds it by run id."""
    result = _run([_stage("plain", 0, ValueError())])
    assert result.success
    assert isinstance(seen_clients[0], NocoDBResource)
    assert NocoDBResource.for_run(result.run_id) is None  # released when the run ends


def test_a_run_launched_without_the_rows_tags_gets_them_from_its_stage() -> None:
    """As a run launched from the UI (a backfill) does: no identity tags until a stage names the row."""
    from talking_head_dagster.assets.stage import record_identity
    from talking_head_dagster.partitions import records
    from talking_head_dagster.run_tags import ROW_TAG, TABLE_TAG, TITLE_TAG

    script = "Our new phone lasts two days on one charge, and here is how we measured it."

    @dg.asset(partitions_def=records)
    def first(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=record_identity(context, script))

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(records.name, ["m1vy_tbl-3"])
        result = dg.materialize([first], partition_key="m1vy_tbl-3", instance=instance)
        tags = instance.get_run_by_id(result.run_id).tags
    assert (tags[TABLE_TAG], tags[ROW_TAG], tags[TITLE_TAG]) == ("m1vy_tbl", "3", "Our new phone lasts two days…")
    metadata = result.asset_materializations_for_node("first")[0].metadata
    assert (metadata["row"].value, metadata["title"].value) == ("table m1vy_tbl, row 3", tags[TITLE_TAG])
