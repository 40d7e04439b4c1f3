"""Where runs land: the GPU location's runs get the GPU, the CPU location's do not, on Docker and on Kubernetes.

Docker: both code servers are started as compose.yaml starts them (its command and container
context), a run of each location's stage job is created from what the server reports, and
dagster-docker's DockerRunLauncher (configured by deploy/dagster.yaml) launches it against docker-py
with only the HTTP call replaced: the test reads the container configuration the engine would get.
Kubernetes: dagster-k8s's K8sRunLauncher and its step config merging build the pod specs.
"""

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import dagster as dg
import docker
import pytest
import yaml
from dagster._core.launcher import LaunchRunContext
from dagster._core.test_utils import create_run_for_test
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import CompositeTarget, GrpcServerTarget
from dagster_docker import DockerRunLauncher
from dagster_k8s import K8sRunLauncher
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import construct_dagster_k8s_job, get_user_defined_k8s_config

from talking_head_dagster.locations.gpu import defs as gpu_defs
from tests.support.processes import (
    REPO,
    compose_services,
    container_env,
    free_port,
    local_command,
    started,
    wait_for_code_server,
)

LOCATIONS = {"code-cpu": "talking_head_cpu", "code-gpu": "talking_head_gpu"}
JOBS = {"talking_head_cpu": "record_finish", "talking_head_gpu": "record_avatar"}
GPU_REQUEST = {"Driver": "nvidia", "Count": 1, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Both code servers, as compose.yaml runs them, and an instance whose workspace is those servers."""
    services = compose_services()
    folder = tmp_path_factory.mktemp("code_servers")
    with ExitStack() as stack:
        instance = stack.enter_context(dg.instance_for_test())
        servers, targets = [], []
        for service, location in LOCATIONS.items():
            port, log = free_port(), folder / f"{service}.log"
            env = {**os.environ, **container_env(services[service])}
            servers.append((stack.enter_context(started(local_command(services[service], port), env, log)), port, log))
            targets.append(GrpcServerTarget(host="127.0.0.1", port=port, socket=None, location_name=location))
        for process, port, log in servers:
            wait_for_code_server(port, process, log)
        target = CompositeTarget(targets=targets)
        process_context = stack.enter_context(WorkspaceProcessContext(instance, target))
        yield instance, process_context.create_request_context()


def _run_of(workspace, location: str) -> dg.DagsterRun:
    instance, request_context = workspace
    remote_job = (
        request_context.get_code_location(location).get_repository("__repository__").get_full_job(JOBS[location])
    )
    return create_run_for_test(
        instance,
        job_name=remote_job.name,
        tags={**remote_job.run_tags, "dagster/partition": "tbl1-7"},
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
    )


def _docker_container_config(workspace, location: str) -> dict:
    """What the DockerRunLauncher of deploy/dagster.yaml sends to the Docker engine for a run of ``location``."""
    instance, request_context = workspace
    config = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())["run_launcher"]["config"]
    launcher = DockerRunLauncher(**config)
    launcher.register_instance(instance)
    client = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.45")
    sent = {}

    def create_container_from_config(container_config, name, platform=None):
        sent.update(container_config)
        return {"Id": "c0ffee"}

    run = _run_of(workspace, location)
    # The daemon's environment (compose.yaml gives it every variable the launcher forwards).
    daemon_env = {name: f"value-of-{name}" for name in config["env_vars"] if "=" not in name}
    with (
        mock.patch.dict(os.environ, daemon_env),
        mock.patch("docker.client.from_env", return_value=client),
        mock.patch.object(client.api, "create_container_from_config", side_effect=create_container_from_config),
        mock.patch("docker.models.containers.ContainerCollection.get", return_value=mock.MagicMock(id="c0ffee")),
    ):
        launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=request_context))
    return sent


def test_a_gpu_location_run_asks_docker_for_the_gpu(workspace) -> None:
    sent = _docker_container_config(workspace, "talking_head_gpu")
    assert sent["Image"] == "talking-head-dagster:gpu"
    assert sent["HostConfig"]["DeviceRequests"] == [GPU_REQUEST]
    # The location's own additions are merged over the launcher's, which stay.
    assert "TALKING_HEAD_AVATAR__BACKEND=flashhead" in sent["Env"]
    assert sorted(sent["HostConfig"]["Binds"]) == [
        "talking-head-models:/app/models:ro",
        "talking-head-vendor:/app/vendor:ro",
    ]
    assert sent["HostConfig"]["NetworkMode"] == "talking-head"


def test_a_cpu_location_run_does_not(workspace) -> None:
    sent = _docker_container_config(workspace, "talking_head_cpu")
    assert sent["Image"] == "talking-head-dagster:cpu"
    assert "DeviceRequests" not in sent["HostConfig"]
    assert not any(env.startswith("TALKING_HEAD_AVATAR__BACKEND") for env in sent["Env"])
    assert sent["HostConfig"]["Binds"] == ["talking-head-models:/app/models:ro"]


def _k8s_launcher(tmp_path: Path, batch_api) -> K8sRunLauncher:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "unused"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "dagster"}}],
                "current-context": "x",
            }
        )
    )
    return K8sRunLauncher(
        service_account_name="dagster",
        instance_config_map="dagster-instance",
        dagster_home="/opt/dagster/home",
        job_image="registry.example.com/talking-head-dagster:cpu",
        load_incluster_config=False,
        kubeconfig_file=str(kubeconfig),
        k8s_client_batch_api=batch_api,
        job_namespace="dagster",
    )


def _k8s_run_pod(workspace, tmp_path: Path, location: str):
    instance, request_context = workspace
    batch_api = mock.MagicMock()
    launcher = _k8s_launcher(tmp_path, batch_api)
    launcher.register_instance(instance)
    launcher.launch_run(LaunchRunContext(dagster_run=_run_of(workspace, location), workspace=request_context))
    job = batch_api.create_namespaced_job.call_args.kwargs["body"]
    return job.spec.template.spec.containers[0]


def test_a_gpu_location_run_pod_asks_kubernetes_for_the_gpu(workspace, tmp_path: Path) -> None:
    container = _k8s_run_pod(workspace, tmp_path, "talking_head_gpu")
    assert container.resources.limits == {"nvidia.com/gpu": "1"}


def test_a_cpu_location_run_pod_does_not(workspace, tmp_path: Path) -> None:
    container = _k8s_run_pod(workspace, tmp_path, "talking_head_cpu")
    assert not (container.resources and container.resources.limits)


def test_the_avatar_step_pod_asks_kubernetes_for_the_gpu() -> None:
    """What k8s_job_executor's step handler does with a step's tags: merge them into the pod spec."""
    step_tags = gpu_defs.get_assets_def("avatar_video").op.tags
    context = K8sContainerContext(namespace="dagster", resources={"requests": {"cpu": "2", "memory": "8Gi"}}).merge(
        K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(step_tags))
    )
    launcher = mock.Mock(dagster_home="/opt/dagster/home", instance_config_map="dagster-instance")
    launcher.postgres_password_secret = None
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config("registry.example.com/talking-head-dagster:gpu", launcher),
        args=["dagster", "api", "execute_step"],
        job_name="dagster-step-avatar",
        pod_name="dagster-step-avatar",
        component="step_worker",
        user_defined_k8s_config=context.run_k8s_config,
    )
    resources = job.spec.template.spec.containers[0].resources
    assert resources.limits == {"nvidia.com/gpu": "1"}
    assert resources.requests == {"cpu": "2", "memory": "8Gi"}
