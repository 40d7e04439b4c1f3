"""The real Definitions load, with the six assets, the job and the sensor wired to their resources."""

import os
import subprocess
import sys

import dagster as dg
import pytest

from talking_head_dagster.definitions import build_definitions, defs
from talking_head_dagster.settings import Settings

STAGES = ["source_video", "tts_audio", "avatar_video", "composite", "public_url", "nocodb_sync"]


def test_definitions_load_with_the_six_assets_in_order() -> None:
    job = defs.resolve_job_def("render_record")
    graph = defs.resolve_asset_graph()
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == sorted(STAGES)
    assert job.partitions_def.name == "records"
    upstream = {
        k.to_user_string(): sorted(p.to_user_string() for p in graph.get(k).parent_keys)
        for k in graph.get_all_asset_keys()
    }
    assert upstream == {
        "source_video": [],
        "tts_audio": [],
        "avatar_video": ["tts_audio"],
        "composite": ["avatar_video", "source_video", "tts_audio"],
        "public_url": ["composite"],
        "nocodb_sync": ["public_url"],
    }
    assert defs.resolve_sensor_def("nocodb_rows").job_name == "render_record"


def test_sensor_skips_when_nocodb_is_not_configured(instance) -> None:
    definitions = build_definitions(Settings())
    with dg.build_sensor_context(
        instance=instance, definitions=definitions, resources=definitions.resources
    ) as context:
        result = definitions.resolve_sensor_def("nocodb_rows")(context)
    assert not result.run_requests
    assert "No NocoDB table is configured" in str(result.skip_reason)


def test_secrets_come_from_the_environment_and_stay_hidden(monkeypatch) -> None:
    monkeypatch.setenv("TALKING_HEAD_NOCODB__URL", "http://127.0.0.1:9")
    monkeypatch.setenv("TALKING_HEAD_NOCODB__API_TOKEN", "very-secret-token")
    settings = Settings()
    assert "very-secret-token" not in repr(settings)
    definitions = build_definitions(settings)
    nocodb = definitions.resources["nocodb"]
    assert isinstance(nocodb.api_token, dg.EnvVar)
    assert "very-secret-token" not in repr(nocodb)


# What only one stage needs, loaded by that stage: every run process and code server loads the
# code location, and these cost seconds of import on a small machine (benchmarks/run_startup.py).
STAGE_ONLY_MODULES = ["boto3", "yt_dlp", "cv2", "numpy", "pypinyin", "mediapipe", "piper", "matplotlib"]
STAGE_ONLY_MODULES += ["kubernetes", "docker", "torch"]


@pytest.mark.parametrize(
    "module",
    [
        "talking_head_dagster.definitions",
        "talking_head_dagster.locations.cpu",
        "talking_head_dagster.locations.gpu",
        "talking_head_dagster.locations.served",
        "talking_head_dagster.launcher",  # the daemon's run launcher
    ],
)
def test_loading_a_code_location_leaves_stage_only_modules_unloaded(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {STAGE_ONLY_MODULES!r} if m in sys.modules))"
    env = {**os.environ, "TALKING_HEAD_AVATAR__FLASHHEAD__SERVER_URL": "http://127.0.0.1:8765"}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True, env=env
    )
    assert result.stdout.split() == []
