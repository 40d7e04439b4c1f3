"""The served shape: with the avatar server, one code location renders a row in one run (deploy/compose.served.yaml)."""

import importlib
import json
import sys

import dagster as dg
import pytest
import yaml

from talking_head_dagster.locations.one_run import NEEDS_SERVER, build_served_definitions
from talking_head_dagster.resources.avatar import FlashHeadServerBackend
from talking_head_dagster.settings import AvatarSettings, FlashHeadSettings, Settings
from tests.support.processes import REPO, compose_services

SERVER = "http://avatar-server:8765"
SIX = {"source_video", "tts_audio", "avatar_video", "composite", "public_url", "nocodb_sync"}


def served(backend: str = "flashhead", server_url: str | None = SERVER) -> dg.Definitions:
    return build_served_definitions(
        Settings(avatar=AvatarSettings(backend=backend, flashhead=FlashHeadSettings(server_url=server_url)))
    )


def test_one_run_renders_every_stage_and_the_avatar_goes_to_the_server() -> None:
    definitions = served()
    job = definitions.resolve_job_def("render_record")
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == SIX
    assert definitions.resolve_sensor_def("nocodb_rows").job_name == "render_record"
    assert definitions.get_assets_def("avatar_video").op.pool == "gpu"  # the server renders one at a time
    backend, _reason = definitions.resources["avatar"].resolved_backend()
    assert isinstance(backend, FlashHeadServerBackend)


@pytest.mark.parametrize(("backend", "server_url"), [("flashhead", None), ("auto", None), ("lite", SERVER)])
def test_without_the_server_it_refuses_to_load(backend: str, server_url: str | None) -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError) as raised:
        served(backend, server_url)
    assert str(raised.value) == NEEDS_SERVER


def test_the_module_a_code_server_loads(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "talking_head_dagster.locations.served", raising=False)
    monkeypatch.setenv("TALKING_HEAD_AVATAR__FLASHHEAD__SERVER_URL", SERVER)
    module = importlib.import_module("talking_head_dagster.locations.served")
    assert module.defs.resolve_job_def("render_record")


def test_the_compose_override_runs_one_location_and_the_avatar_server() -> None:
    services = compose_services(overrides=("deploy/compose.served.yaml",))
    assert "code-gpu" not in services and "avatar-server" in services
    command = services["code-cpu"]["command"]
    assert command[command.index("-m") + 1] == "talking_head_dagster.locations.served"
    location = command[command.index("--location-name") + 1]
    # Every run container of the location renders on the server, never silently on its CPU.
    env_vars = json.loads(services["code-cpu"]["environment"]["DAGSTER_CONTAINER_CONTEXT"])["docker"]["env_vars"]
    assert env_vars == [
        "TALKING_HEAD_AVATAR__BACKEND=flashhead",
        f"TALKING_HEAD_AVATAR__FLASHHEAD__SERVER_URL={SERVER}",
    ]
    workspace = yaml.safe_load((REPO / "deploy" / "workspace.served.yaml").read_text())["load_from"]
    assert workspace == [{"grpc_server": {"host": "code-cpu", "port": 4000, "location_name": location}}]
    for name in ("webserver", "daemon"):
        assert "/app/deploy/workspace.served.yaml" in services[name]["command"]
        assert set(services[name]["depends_on"]) == {"postgres", "code-cpu"}
