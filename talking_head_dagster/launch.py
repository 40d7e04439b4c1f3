"""One render as one run of ``render_record`` in this process, listed under the job in the UI.

``job.execute_in_process`` makes runs without a repository origin, which the UI shows nowhere
under the job. Here the run is created with the origin of the code location ``workspace.yaml``
loads, so the UI lists it under ``render_record`` (its Runs tab, the timeline, re-execution), and
then executed in this process, its events handed to the caller as they happen.
"""

import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import dagster as dg
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import create_execution_plan, execute_run_iterator
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

# What workspace.yaml loads: the UI matches runs to the job by "<repository>@<location>".
LOCATION_NAME = "talking_head_dagster"
DEFINITIONS_MODULE = "talking_head_dagster.definitions"
REPOSITORY_NAME = "__repository__"  # the one repository of a ``dg.Definitions``
PARTITION_TAG = "dagster/partition"
WORKING_DIRECTORY = str(Path(__file__).resolve().parent.parent)


def job_origins(job_name: str) -> tuple[RemoteJobOrigin, JobPythonOrigin]:
    """Where the UI finds the job (its code location), and how a process would load it again."""
    target = LoadableTargetOrigin(
        executable_path=sys.executable, module_name=DEFINITIONS_MODULE, working_directory=WORKING_DIRECTORY
    )
    location = ManagedGrpcPythonEnvCodeLocationOrigin(loadable_target_origin=target, location_name=LOCATION_NAME)
    remote = RemoteRepositoryOrigin(code_location_origin=location, repository_name=REPOSITORY_NAME)
    pointer = ModuleCodePointer(DEFINITIONS_MODULE, "defs", WORKING_DIRECTORY)
    python = JobPythonOrigin(job_name, RepositoryPythonOrigin(sys.executable, pointer, None, None, None))
    return remote.get_job_origin(job_name), python


def launch_in_process(
    job_def: dg.JobDefinition,
    *,
    partition_key: str,
    asset_keys: Iterable[dg.AssetKey],
    instance: dg.DagsterInstance,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, object] | None = None,
) -> tuple[str, Iterator[dg.DagsterEvent]]:
    """Create one run of ``job_def`` for ``asset_keys`` of one partition; return its id and its events.

    Steps: 1. the execution plan of the selected assets (their checks come with them); 2. the run,
    with the job's code location origin and the caller's tags; 3. its execution, lazily: the run
    goes on as the caller reads the events.
    """
    selection = frozenset(asset_keys)
    run_config = dict(run_config or {})
    # 1. The plan.
    plan = create_execution_plan(
        InMemoryJob(job_def.get_subset(asset_selection=selection)),
        run_config=run_config,
        instance_ref=instance.get_ref() if instance.is_persistent else None,
    )
    # 2. The run, under the job.
    remote_origin, python_origin = job_origins(job_def.name)
    run = instance.create_run_for_job(
        job_def=job_def,
        execution_plan=plan,
        run_config=run_config,
        status=dg.DagsterRunStatus.NOT_STARTED,
        tags={**job_def.run_tags, **(tags or {}), PARTITION_TAG: partition_key},
        asset_selection=selection,
        remote_job_origin=remote_origin,
        job_code_origin=python_origin,
    )
    # 3. Its events, as they happen.
    return run.run_id, execute_run_iterator(InMemoryJob(job_def), run, instance)
