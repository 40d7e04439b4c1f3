"""deploy/k8s/avatar-server.yaml, the optional avatar server on Kubernetes: consistent with compose and values.yaml."""

import yaml

from tests.support.processes import REPO, compose_services


def manifests() -> dict[str, dict]:
    documents = yaml.safe_load_all((REPO / "deploy" / "k8s" / "avatar-server.yaml").read_text())
    return {document["kind"]: document for document in documents}


def test_the_server_pod_gets_a_gpu_the_weights_and_the_checkout_and_runs_what_compose_runs() -> None:
    pod = manifests()["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == compose_services(profiles=["avatar-server"])["avatar-server"]["command"]
    assert container["resources"]["limits"] == {"nvidia.com/gpu": 1}
    assert {mount["mountPath"] for mount in container["volumeMounts"]} == {"/app/models", "/app/vendor"}
    gpu_location = next(
        d for d in yaml.safe_load((REPO / "deploy" / "k8s" / "values.yaml").read_text())["dagster-user-deployments"][
            "deployments"
        ] if d["name"] == "talking-head-gpu"
    )  # fmt: skip
    assert pod["volumes"] == gpu_location["volumes"] and pod["nodeSelector"] == gpu_location["nodeSelector"]
    for probe in ("startupProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}


def test_the_service_is_cluster_internal_and_reaches_the_port_the_server_listens_on() -> None:
    found = manifests()
    service, deployment = found["Service"], found["Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    listen_port = int(container["command"][container["command"].index("--port") + 1])
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert container["ports"] == [{"name": "http", "containerPort": listen_port}]
    assert service["spec"]["ports"][0]["port"] == listen_port == 8765
