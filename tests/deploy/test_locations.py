"""The two production code locations: the same six assets split CPU/GPU, lineage across them, the hand-on sensors."""

import os
import time

import dagster as dg
from dagster._core.definitions.dependency import NodeHandle

from talking_head_dagster.cleanup import artifact_cache_cleanup
from talking_head_dagster.definitions import defs as single
from talking_head_dagster.locations import AVATAR_JOB, FINISH_JOB, PREPARE_JOB
from talking_head_dagster.locations.cpu import defs as cpu
from talking_head_dagster.locations.gpu import defs as gpu
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.sensors.run_history import VERSION_TAG
from talking_head_dagster.sensors.stage_chain import AFTER_RUN_TAG


def _names(keys) -> set[str]:
    return {key.to_user_string() for key in keys}


def _materializable(definitions: dg.Definitions) -> set[str]:
    return _names(definitions.resolve_asset_graph().materializable_asset_keys)


def test_the_locations_split_the_single_locations_assets() -> None:
    assert _materializable(gpu) == {"avatar_video"}
    assert _materializable(cpu) == _materializable(single) - {"avatar_video"}


def test_each_location_names_the_others_assets_as_dependencies() -> None:
    cpu_graph, gpu_graph = cpu.resolve_asset_graph(), gpu.resolve_asset_graph()
    assert _names(cpu_graph.get(dg.AssetKey("composite")).parent_keys) == {"source_video", "tts_audio", "avatar_video"}
    assert _names(gpu_graph.get(dg.AssetKey("avatar_video")).parent_keys) == {"tts_audio"}
    # The dependency in the other location is known by key only: the UI joins the two graphs on it.
    assert not cpu_graph.get(dg.AssetKey("avatar_video")).is_materializable
    assert not gpu_graph.get(dg.AssetKey("tts_audio")).is_materializable


def test_the_stage_jobs_keep_the_single_jobs_hook_and_retries() -> None:
    whole = single.resolve_job_def("render_record")
    jobs = {name: loc.resolve_job_def(name) for loc, name in ((cpu, PREPARE_JOB), (gpu, AVATAR_JOB), (cpu, FINISH_JOB))}
    # The default RetrySettings (5 s base, 600 s in all): 5 retries, exponential with jitter, on every stage.
    expected = dg.RetryPolicy(max_retries=5, delay=5.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
    for job in [whole, *jobs.values()]:
        policies = {node.name: job.get_retry_policy_for_handle(NodeHandle(node.name, None)) for node in job.graph.nodes}
        assert policies and set(policies.values()) == {expected}, (job.name, policies)
    assert sorted(name for job in jobs.values() for name in _names(job.asset_layer.executable_asset_keys)) == sorted(
        _materializable(single)
    )  # the stage jobs between them run every stage, each once
    for name, job in jobs.items():
        assert {hook.name for hook in job.hook_defs} == {hook.name for hook in whole.hook_defs} == {"row_failure"}
        assert job.tags["talking_head/stage"] == name.removeprefix("record_")
        assert job.partitions_def.name == "records"
    assert cpu.resolve_sensor_def("nocodb_rows").job_name == PREPARE_JOB


def test_the_avatar_is_in_the_gpu_pool_with_the_kubernetes_gpu_limit() -> None:
    avatar = gpu.get_assets_def("avatar_video")
    assert avatar.op.pool == "gpu"
    assert "nvidia.com/gpu" in avatar.op.tags["dagster-k8s/config"]


def _succeeded_run(instance: dg.DagsterInstance, job_name: str, tags: dict[str, str]) -> dg.DagsterRun:
    run = instance.create_run_for_job(
        dg.GraphDefinition(name=job_name, node_defs=[]).to_job(), tags=tags, status=dg.DagsterRunStatus.SUCCESS
    )
    return run


def _hand_on(definitions: dg.Definitions, sensor_name: str, instance: dg.DagsterInstance, run: dg.DagsterRun):
    event = dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name, message="done"
    )
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor_name, dagster_event=event, dagster_instance=instance, dagster_run=run
    )
    return definitions.resolve_sensor_def(sensor_name)(context)


def test_a_prepared_row_goes_on_to_the_gpu_and_an_animated_one_to_the_finish(instance) -> None:
    tags = {"dagster/partition": "tbl1-7", VERSION_TAG: "abc123"}
    prepared = _succeeded_run(instance, PREPARE_JOB, tags)
    request = _hand_on(gpu, "avatar_after_prepare", instance, prepared)
    assert request.partition_key == "tbl1-7"
    assert request.run_key == f"tbl1-7:{prepared.run_id}"
    assert request.tags == {AFTER_RUN_TAG: prepared.run_id, VERSION_TAG: "abc123"}

    animated = _succeeded_run(instance, AVATAR_JOB, tags)
    assert _hand_on(cpu, "finish_after_avatar", instance, animated).partition_key == "tbl1-7"


def test_other_runs_are_not_handed_on(instance) -> None:
    # A stage re-materialised on its own (the UI's asset job) or a finish run: nothing follows.
    for job_name in ("__ASSET_JOB", FINISH_JOB, "render_record"):
        run = _succeeded_run(instance, job_name, {"dagster/partition": "tbl1-7"})
        assert isinstance(_hand_on(gpu, "avatar_after_prepare", instance, run), dg.SkipReason)
        assert isinstance(_hand_on(cpu, "finish_after_avatar", instance, run), dg.SkipReason)


def test_both_locations_clean_up_every_hour_the_gpu_its_own_cache_only(tmp_path, instance) -> None:
    def schedules(location: dg.Definitions) -> dict[str, tuple[str, str, dg.DefaultScheduleStatus]]:
        return {s.name: (s.cron_schedule, s.job_name, s.default_status) for s in location.schedules}

    running = dg.DefaultScheduleStatus.RUNNING
    assert schedules(cpu) == {"artifact_cleanup_hourly": ("17 * * * *", "artifact_cleanup", running)}
    assert schedules(gpu) == {"artifact_cache_cleanup_hourly": ("47 * * * *", "artifact_cache_cleanup", running)}
    assert gpu.resolve_job_def("artifact_cache_cleanup").graph.node_names() == ["prune_artifact_cache"]

    # The GPU host's cache of an S3 store: old stage folders go, S3 is not touched (none is reachable).
    old = tmp_path / "tbl-1"
    for stage in ("tts_audio", "public_url"):
        (old / stage).mkdir(parents=True)
        (old / stage / "data.bin").write_bytes(b"\0" * 1000)
    then = time.time() - 5 * 3600
    for item in [old, *old.rglob("*")]:
        os.utime(item, (then, then))
    store = ArtifactStore(backend="s3", s3=None, local_dir=str(tmp_path), retention_hours=1)
    result = artifact_cache_cleanup.execute_in_process(instance=instance, resources={"artifacts": store})
    assert result.success and result.output_for_node("prune_artifact_cache") == 1
    assert sorted(p.name for p in old.iterdir()) == ["public_url"]
